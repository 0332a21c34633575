"""
A Ray head on this machine for as long as a `with` block runs, started as a team starts the head
of its cluster (`ray start --head --block`) but in a Ray folder of its own: no `ray.init()`
elsewhere takes it for this machine's current cluster, and stopping it stops no other Ray.

Used by benchmarks/corpus_ray.py (`--running-cluster`) and tests/corpus/test_ray_cluster.py.
"""

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator

START_TIMEOUT_S = 120


@contextlib.contextmanager
def ray_head(cpus: int, environment: Dict[str, str], log=subprocess.DEVNULL) -> Iterator[str]:
    """
    Yields the head's address, `127.0.0.1:PORT`, once it listens; its processes run with
    `environment` (the caller's choice of `RAY_AUTH_MODE`, a token), and are stopped at the end.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths live under it
    command = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--port", str(port)]
    command += ["--num-cpus", str(cpus), "--num-gpus", "0", "--include-dashboard", "false", "--temp-dir", folder]
    # No draining at the end: the head stops as soon as it is told to.
    environment = dict(environment, RAY_USAGE_STATS_ENABLED="0", RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0")
    head = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start: {' '.join(command)}")
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        shutil.rmtree(folder, ignore_errors=True)

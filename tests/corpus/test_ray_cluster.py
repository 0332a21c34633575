"""
`allennlp spert-predict-corpus` against a real two-node Ray cluster on the loopback address,
reached through `RAY_ADDRESS` as a user's cluster would be.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.corpus.corpus_inputs import PREDICTOR_ARGS, check_against_reference, read_jsonl_parts

pytestmark = pytest.mark.slow


@pytest.fixture
def two_nodes():
    """A head node and a second node, one CPU each; both stopped afterwards, whatever happened."""
    import ray
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    assert not ray.is_initialized()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": 200 * 2**20},
    )
    try:
        cluster.add_node(num_cpus=1, object_store_memory=200 * 2**20)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


def test_the_command_runs_on_a_two_node_cluster(two_nodes, trained_archive, corpus, reference, tmp_path):
    folder, _, lines = corpus
    output = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "allennlp",
        "spert-predict-corpus",
        trained_archive,
        str(folder),
        "-o",
        str(output),
    ]
    command += ["--rows-per-shard", "60", "--batch-size", "16", "--num-actors", "2", "--precision", "float32"]
    command += ["--predictor-args", json.dumps({"batch_size": PREDICTOR_ARGS["batch_size"]})]
    result = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=dict(os.environ, RAY_ADDRESS=two_nodes.address),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "6 shards written, 0 already done; 328 rows" in result.stdout
    assert "on 2 actors and 2 nodes; 8 rows with errors" in result.stdout
    summary = json.loads((output / "_summary.json").read_text())
    # One actor per node (one CPU each): both nodes predicted rows.
    assert len(summary["rows_per_node"]) == 2 and sum(summary["rows_per_node"].values()) == 328
    check_against_reference(read_jsonl_parts(output), lines, reference)


def test_bad_settings_are_one_line_errors(trained_archive, corpus, tmp_path):
    folder, _, _ = corpus
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "spert-predict-corpus", str(tmp_path / "missing.tar.gz"), str(folder)]
        + ["-o", str(tmp_path / "out")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-2:] == [
        f"allennlp spert-predict-corpus: error: {tmp_path / 'missing.tar.gz'}: no such model archive",
        "(SPERT_DEBUG=1 shows the traceback)",
    ]


def test_a_cluster_that_refuses_the_job_is_a_one_line_error(trained_archive, corpus, tmp_path):
    """
    A cluster started with token authentication (as `ray start` does from Ray 2.59 once a token
    file exists), joined by a job without the token: Ray's reason, found under its two wrappers,
    on one line with the address.
    """
    folder, _, _ = corpus
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    environment["RAY_USAGE_STATS_ENABLED"] = "0"
    # A Ray folder of its own: `ray.init()` in other tests must not find this cluster as this
    # machine's current one (and the sockets' paths must stay short).
    ray_folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    head = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--port", str(port)]
        + ["--num-cpus", "1", "--include-dashboard", "false", "--temp-dir", ray_folder],
        # No draining at the end: the head stops as soon as it is told to.
        env=dict(
            environment, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN="a" * 32, RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, head)
        result = subprocess.run(
            [sys.executable, "-m", "allennlp", "spert-predict-corpus", trained_archive, str(folder)]
            + ["-o", str(tmp_path / "out"), "--address", f"127.0.0.1:{port}"],
            cwd=PROJECT_ROOT,
            env=dict(environment, RAY_AUTH_MODE="disabled"),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        shutil.rmtree(ray_folder, ignore_errors=True)
    assert result.returncode == 1
    message, hint = result.stderr.strip().splitlines()[-2:]
    assert message.startswith(
        f"allennlp spert-predict-corpus: error: cannot join the Ray cluster at 127.0.0.1:{port}: "
        "AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing or incorrect."
    ), result.stderr[-3000:]
    assert hint == "(SPERT_DEBUG=1 shows the traceback)"
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "ray start --head ended before its GCS listened"
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"no Ray GCS on port {port} after {seconds} s")

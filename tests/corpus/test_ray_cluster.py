"""
`allennlp spert-predict-corpus` against a real two-node Ray cluster on the loopback address,
reached through `RAY_ADDRESS` as a user's cluster would be.
"""

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.corpus.corpus_inputs import PREDICTOR_ARGS, check_against_reference, read_jsonl_parts

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def recorded_cluster_kept():
    """
    Keeps the file in which `ray start` records this machine's cluster as it was: Ray's `Cluster`
    writes its head there and deletes the file when it shuts down. Restored as soon as the head is
    up, so that a `ray.init()` without an address in a test running beside this one (or a user's
    job) does not join the test's cluster, and a user's recorded cluster is not forgotten.
    """
    from ray._common.utils import get_ray_address_file  # Ray's own rule for where the file is

    recorded = Path(get_ray_address_file(None))
    before = recorded.read_bytes() if recorded.exists() else None

    def restore():
        if before is None:
            recorded.unlink(missing_ok=True)
        else:
            recorded.write_bytes(before)

    try:
        yield restore
    finally:
        restore()


@pytest.fixture
def two_nodes():
    """A head node and a second node, one CPU each; both stopped afterwards, whatever happened."""
    import ray
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    assert not ray.is_initialized()
    with recorded_cluster_kept() as restore:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "include_dashboard": False, "object_store_memory": 200 * 2**20},
        )
        try:
            restore()
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
    A cluster started with token authentication (as `ray start` does, in Ray 2.60, once a token
    exists), joined by a job without the token: Ray's reason, found under its two wrappers, on one
    line with the address.
    """
    folder, _, _ = corpus
    environment = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    # The head in a Ray folder of its own (benchmarks/ray_head.py): `ray.init()` in other tests
    # must not find it as this machine's current cluster.
    with ray_head_module().ray_head(1, dict(environment, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN="a" * 32)) as address:
        result = subprocess.run(
            [sys.executable, "-m", "allennlp", "spert-predict-corpus", trained_archive, str(folder)]
            + ["-o", str(tmp_path / "out"), "--address", address],
            cwd=PROJECT_ROOT,
            env=dict(environment, RAY_AUTH_MODE="disabled"),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 1
    message, hint = result.stderr.strip().splitlines()[-2:]
    assert message.startswith(
        f"allennlp spert-predict-corpus: error: cannot join the Ray cluster at {address}: "
        "AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing or incorrect."
    ), result.stderr[-3000:]
    assert hint == "(SPERT_DEBUG=1 shows the traceback)"
    assert "Traceback" not in result.stderr


def ray_head_module():
    spec = importlib.util.spec_from_file_location("ray_head", PROJECT_ROOT / "benchmarks" / "ray_head.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

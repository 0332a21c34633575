"""
One training over two nodes, as `scripts/train_nodes.sh` launches it on each machine (AllenNLP's
`distributed` section: `num_nodes`, `primary_address`, `primary_port`, `--node-rank`), here two
"nodes" of one CPU worker each on the loopback address with gloo, each with its own serialization
folder as on two machines. It must train the run of one node with two workers (the same global
ranks read the same sentences, the gradients are averaged the same way: equal metrics; that run,
`allennlp train` with two CPU workers, is tests/training/conftest.py's, which test_distributed.py
checks too), save the same weights on both nodes, and resume exactly after both nodes were killed.
"""

import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Dict, List

import pytest
import torch

from tests.conftest import FIXTURES, PROJECT_ROOT, free_port
from tests.training.conftest import ENVIRONMENT as TRAINING_ENVIRONMENT
from tests.training.conftest import EPOCHS, figures

KILLED_AFTER = 5
SCRIPT = PROJECT_ROOT / "scripts" / "train_nodes.sh"
ENVIRONMENT = {**TRAINING_ENVIRONMENT, "PYTHON": sys.executable}


def start_node(
    config: Path, run: Path, rank: int, nodes: int, port: int, devices: str, *options: str
) -> subprocess.Popen:
    """The launcher on one "node"; its own process group, so that a kill takes its workers too."""
    environment = dict(
        ENVIRONMENT, NNODES=str(nodes), NODE_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    environment["SPERT_DEVICES"] = devices
    log = open(run.parent / f"{run.name}.log", "a")
    return subprocess.Popen(
        ["bash", str(SCRIPT), str(config), str(run), *options],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def finish(processes: List[subprocess.Popen], runs: List[Path]) -> None:
    for process, run in zip(processes, runs):
        try:
            code = process.wait(timeout=600)
        except subprocess.TimeoutExpired:
            kill(processes)
            pytest.fail(f"{run.name} still training after 10 minutes")
        assert code == 0, (run.parent / f"{run.name}.log").read_text()[-3000:]


def kill(processes: List[subprocess.Popen]) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def start_two_nodes(config: Path, folder: Path, port: int, *options: str) -> List[subprocess.Popen]:
    return [start_node(config, folder / f"node{rank}", rank, 2, port, "[-1]", *options) for rank in (0, 1)]


def weights(run: Path) -> Dict[str, torch.Tensor]:
    with tarfile.open(run / "model.tar.gz") as tar:
        return torch.load(tar.extractfile("weights.th"), map_location="cpu")


@pytest.fixture(scope="module")
def two_nodes(distributed_experiment, tmp_path_factory) -> List[Path]:
    folder = tmp_path_factory.mktemp("two_nodes")
    finish(start_two_nodes(distributed_experiment, folder, free_port()), [folder / "node0", folder / "node1"])
    return [folder / "node0", folder / "node1"]


@pytest.mark.slow
def test_two_nodes_train_the_run_of_one_node_with_two_workers(two_nodes, one_node_two_workers):
    expected = figures(one_node_two_workers)
    # worth comparing: the figures moved over the epochs
    assert expected["epoch"] == EPOCHS - 1 and 0.0 < expected["validation_rel_f1"] < 1.0, expected
    primary, second = two_nodes
    assert figures(primary) == expected
    # Each node's first worker saves the run; data-parallel training keeps one set of weights.
    first, other = weights(primary), weights(second)
    assert first.keys() == other.keys()
    assert all(torch.equal(first[name], other[name]) for name in first)
    log = (primary.parent / "node0.log").read_text()
    assert "node 0 of 2, primary 127.0.0.1:" in log and "World size: 2" in log


@pytest.mark.slow
def test_two_nodes_killed_at_an_epoch_boundary_resume_exactly(distributed_experiment, two_nodes, tmp_path):
    runs = [tmp_path / "node0", tmp_path / "node1"]
    port = free_port()
    processes = start_two_nodes(distributed_experiment, tmp_path, port)
    checkpoint = f"model_state_e{KILLED_AFTER}_b0.th"
    deadline = time.monotonic() + 600
    # Both nodes' first workers write their checkpoint (the model state last: it marks it complete).
    while not all((run / checkpoint).exists() for run in runs):
        if any(process.poll() is not None for process in processes) or time.monotonic() > deadline:
            kill(processes)
            pytest.fail(f"no {checkpoint} on both nodes:\n{(tmp_path / 'node0.log').read_text()[-3000:]}")
        time.sleep(0.01)
    kill(processes)
    assert not (runs[0] / "metrics.json").exists()

    # AllenNLP recovers only with the configuration it was killed with: the same primary port too.
    finish(start_two_nodes(distributed_experiment, tmp_path, port, "--recover"), runs)
    assert (
        f"Resuming with the random generators' states after epoch {KILLED_AFTER}."
        in (tmp_path / "node1.log").read_text()
    )
    assert figures(runs[0]) == figures(two_nodes[0])


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"NNODES": "2", "MASTER_ADDR": "127.0.0.1"}, "node_rank is unknown"),
        ({"NNODES": "2", "NODE_RANK": "0", "MASTER_ADDR": "h", "SPERT_DEVICES": "[0, x]"}, "SPERT_DEVICES a JSON list"),
        (
            {"NNODES": "2", "NODE_RANK": "0", "MASTER_ADDR": "h", "SPERT_DEVICES": '"0"'},
            "must be a JSON list of device",
        ),
        ({"NNODES": "two", "NODE_RANK": "0", "MASTER_ADDR": "h"}, "NNODES and MASTER_PORT must be integers"),
    ],
)
def test_the_launcher_refuses_bad_settings_in_one_line(settings, message, tmp_path):
    environment = {
        k: v for k, v in ENVIRONMENT.items() if not k.startswith(("SLURM_", "NNODES", "NODE_RANK", "MASTER_"))
    }
    result = subprocess.run(
        ["bash", str(SCRIPT), str(FIXTURES / "experiment.jsonnet"), str(tmp_path / "run")],
        cwd=PROJECT_ROOT,
        env={**environment, **settings},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and not (tmp_path / "run").exists()

import json
import subprocess
import sys
import tarfile

import pytest
import torch

from tests.conftest import FIXTURES, PROJECT_ROOT


def archived_buffer(archive, name):
    with tarfile.open(archive) as tar:
        weights = torch.load(tar.extractfile("weights.th"), map_location="cpu")
    return weights[name]


@pytest.mark.slow
def test_distributed_training_with_two_cpu_workers(one_node_two_workers, tmp_path):
    # The training (tests/training/conftest.py): `allennlp train` with a `distributed` section of two
    # CPU workers, on data whose only sentence with nested entities is in the second worker's share.
    run = one_node_two_workers
    metrics = json.loads((run / "metrics.json").read_text())
    assert "peak_worker_0_memory_MB" in metrics and "peak_worker_1_memory_MB" in metrics
    assert "validation_rel_f1" in metrics
    # Only the second worker saw nested entities; the primary, which saves, must know of them.
    assert archived_buffer(run / "model.tar.gz", "trained_on_nested_entities").item() is True
    evaluation = subprocess.run(
        [
            sys.executable,
            "-m",
            "allennlp",
            "evaluate",
            str(run / "model.tar.gz"),
            str(FIXTURES / "data" / "sentences.json"),
            "--output-file",
            str(tmp_path / "test.json"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert evaluation.returncode == 0, evaluation.stderr[-3000:]
    assert "rel_strict_f1" in json.loads((tmp_path / "test.json").read_text())

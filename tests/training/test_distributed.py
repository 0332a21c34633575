import json
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, PROJECT_ROOT

# Two CPU worker processes (gloo). The relation head gets no gradient on a batch without entity
# pairs and BertModel's pooler is unused: DDP must be told to expect unused parameters.
DISTRIBUTED = {
    "distributed": {"cuda_devices": [-1, -1], "ddp_accelerator": {"type": "torch", "find_unused_parameters": True}},
    "data_loader.batch_size": 2,
    # AllenNLP tests only on the primary worker after training, while metrics synchronise across
    # workers: test with `allennlp evaluate` instead.
    "evaluate_on_test": False,
}


@pytest.mark.slow
def test_distributed_training_with_two_cpu_workers(tmp_path):
    run = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "allennlp",
            "train",
            str(FIXTURES / "experiment.jsonnet"),
            "-s",
            str(run),
            "-o",
            json.dumps(DISTRIBUTED),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert "peak_worker_0_memory_MB" in metrics and "peak_worker_1_memory_MB" in metrics
    assert "validation_rel_f1" in metrics
    assert (run / "model.tar.gz").exists()
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

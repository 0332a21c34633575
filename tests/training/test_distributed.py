import json
import subprocess
import sys
import tarfile

import pytest
import torch

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


def nested_sentence_in_second_workers_shard(tmp_path):
    """
    The fixture sentences reordered so that the only sentence with nested entities (index 2) is
    read by the second worker alone (AllenNLP gives worker r the sentences r, r + 2, ...).
    """
    sentences = json.loads((FIXTURES / "data" / "sentences.json").read_text())
    sentences[2], sentences[3] = sentences[3], sentences[2]
    path = tmp_path / "train.json"
    path.write_text(json.dumps(sentences))
    return path


def archived_buffer(archive, name):
    with tarfile.open(archive) as tar:
        weights = torch.load(tar.extractfile("weights.th"), map_location="cpu")
    return weights[name]


@pytest.mark.slow
def test_distributed_training_with_two_cpu_workers(tmp_path):
    run = tmp_path / "run"
    settings = dict(DISTRIBUTED, train_data_path=str(nested_sentence_in_second_workers_shard(tmp_path)))
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
            json.dumps(settings),
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

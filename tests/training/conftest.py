"""
The distributed training that tests/training/test_distributed.py checks and that
tests/training/test_multi_node.py compares two nodes with: one node, two CPU worker processes
(gloo), as docs/training.md shows it (`allennlp train` with a `distributed` section). It is trained
once per session; in a parallel run (scripts/test.sh) the modules that use it run on one worker
(tests/conftest.py's XDIST_GROUPS), so that it is trained once there too.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import FIXTURES, PROJECT_ROOT

EPOCHS = 12
# The fixture's first four sentences 15 times over (as tests/training/test_exact_resume.py), at
# learning rates under which the figures move over the epochs without reaching 1.0. The only
# sentence with nested entities (the fixture's third) comes fourth: AllenNLP gives worker r of two
# the sentences r, r + 2, ..., so the second worker alone reads it.
TRAINING_COPIES = 15
TRAINING_ORDER = (0, 1, 3, 2)
NESTED_SENTENCE = 2
SEED = 13
# One thread a worker: sums over several threads round differently from run to run.
ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1", "SPERT_SEED": str(SEED)}
# Metrics of the machine, not of the run.
UNCOMPARED = ("duration", "memory")
# Two CPU workers. The relation head gets no gradient on a batch without entity pairs and
# BertModel's pooler is unused: DDP must be told to expect unused parameters. AllenNLP tests only
# on the primary worker after training, while metrics synchronise across workers: test with
# `allennlp evaluate` instead. (scripts/train_nodes.sh builds the same section.)
DISTRIBUTED = {
    "distributed": {"cuda_devices": [-1, -1], "ddp_accelerator": {"type": "torch", "find_unused_parameters": True}},
    "evaluate_on_test": False,
}


def figures(run: Path) -> Dict[str, float]:
    """The run's final metrics, less those of the machine."""
    metrics = json.loads((run / "metrics.json").read_text())
    return {key: value for key, value in metrics.items() if not any(word in key for word in UNCOMPARED)}


@pytest.fixture(scope="session")
def distributed_experiment(tmp_path_factory) -> Path:
    """The fixture experiment on more training data, the nested sentence in the second worker's share, 12 epochs."""
    folder = tmp_path_factory.mktemp("distributed_experiment")
    sentences = json.loads((FIXTURES / "data" / "sentences.json").read_text())
    assert [i for i, s in enumerate(sentences[:4]) if nested(s)] == [NESTED_SENTENCE]
    train = [sentences[i] for i in TRAINING_ORDER] * TRAINING_COPIES
    assert all(i % 2 == 1 for i, s in enumerate(train) if nested(s))
    (folder / "train.json").write_text(json.dumps(train))
    config = folder / "experiment.jsonnet"
    config.write_text(
        f"(import {json.dumps(str(FIXTURES / 'experiment.jsonnet'))}) + {{\n"
        f"  train_data_path: {json.dumps(str(folder / 'train.json'))},\n"
        f"  trainer+: {{ num_epochs: {EPOCHS}, optimizer+: {{ lr: 3e-4, head_lr: 6e-4 }} }},\n"
        "}"
    )
    return config


def nested(sentence) -> bool:
    spans = [(e["start"], e["end"]) for e in sentence["entities"]]
    return any(a != b and a[0] <= b[0] and b[1] <= a[1] for a in spans for b in spans)


@pytest.fixture(scope="session")
def one_node_two_workers(distributed_experiment, tmp_path_factory) -> Path:
    """The serialization folder of `distributed_experiment` trained by one node with two CPU workers."""
    run = tmp_path_factory.mktemp("one_node") / "run"
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "train", str(distributed_experiment), "-s", str(run)]
        + ["-o", json.dumps(DISTRIBUTED)],
        cwd=PROJECT_ROOT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run

"""benchmarks/gpu_check.sh: its CPU fallback runs the three steps of the GPU check, tiny (about a minute)."""

import json
import os
import subprocess

import pytest
import torch

from tests.conftest import PROJECT_ROOT

SCRIPT = str(PROJECT_ROOT / "benchmarks" / "gpu_check.sh")


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU the script runs the full check (minutes)")
def test_the_cpu_fallback_runs_the_tests_a_training_and_the_speed_benchmark(tmp_path):
    environment = dict(os.environ, OUT=str(tmp_path), EPOCHS="1")
    result = subprocess.run(["bash", SCRIPT, "run"], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = (tmp_path / "summary.txt").read_text().splitlines()
    assert summary[0].endswith("no CUDA GPU: the CPU fallback, tiny")
    # tests/test_cuda.py has two tests, both skipped without a GPU
    assert summary[1].startswith("tests: 2 skipped")
    assert summary[2].startswith("training: 1 epochs,") and "test NER F1" in summary[2]
    assert json.loads((tmp_path / "metrics.json").read_text())["epoch"] == 0
    speed = json.loads((tmp_path / "speed.json").read_text())
    assert list(speed["precision_modes"]) == ["float32", "bfloat16"]
    assert speed["test_sentences"] == 4 and speed["trained_archive"].endswith("model.tar.gz")
    assert [line.split()[1] for line in summary[4:]] == ["float32", "bfloat16"]


def test_an_unknown_action_is_a_usage_error():
    result = subprocess.run(["bash", SCRIPT, "check"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: bash benchmarks/gpu_check.sh prepare|run [DIR]"

"""Known errors end an `allennlp` command with one line; SPERT_DEBUG=1 gives the traceback."""

import json
import os
import subprocess
import sys

import pytest
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.cli_errors import command_name, is_known, one_line, running_allennlp_command
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.predictors.spert_mt import InputError
from tests.conftest import FIXTURES, PROJECT_ROOT


def test_which_errors_are_the_users_to_fix():
    assert is_known(DataError("a.json, document 3: no tokens"))
    assert is_known(InputError("input line 2: 'sentence' must be a string, got int"))
    assert is_known(ConfigurationError("key 'model' is required"))
    assert is_known(FileNotFoundError("file data/x.json not found"))
    assert is_known(RuntimeError('RUNTIME ERROR: couldn\'t open import "x.libsonnet"\n\tconfig.jsonnet:3:1-20'))
    assert not is_known(RuntimeError("CUDA error: device-side assert triggered"))
    assert not is_known(ZeroDivisionError("division by zero"))


def test_one_line_messages():
    jsonnet = RuntimeError('RUNTIME ERROR: couldn\'t open import "x.libsonnet"\n\tconfig.jsonnet:3:1-20\t')
    assert one_line(jsonnet) == 'RUNTIME ERROR: couldn\'t open import "x.libsonnet"'
    assert one_line(DataError("a.json, line 2:\n  no tokens")) == "a.json, line 2: no tokens"
    assert command_name(["/venv/bin/allennlp", "train", "c.jsonnet"]) == "allennlp train"
    assert running_allennlp_command(["/venv/bin/allennlp", "train"])
    assert running_allennlp_command(["/venv/lib/python3.11/site-packages/allennlp/__main__.py", "train"])
    assert not running_allennlp_command(["/usr/bin/python", "script.py"])


def train_on(bad_file, tmp_path, debug: bool):
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    environment.pop("SPERT_DEBUG", None)
    if debug:
        environment["SPERT_DEBUG"] = "1"
    overrides = json.dumps({"train_data_path": str(bad_file), "trainer.num_epochs": 1})
    run = tmp_path / ("debug" if debug else "run")
    command = [sys.executable, "-m", "allennlp", "train", str(FIXTURES / "experiment.jsonnet"), "-s", str(run)]
    result = subprocess.run(
        command + ["-o", overrides], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    return result, run


@pytest.mark.slow
def test_a_data_error_in_training_is_one_line_with_the_traceback_in_the_runs_log(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"tokens": ["a", "b"], "entities": [{"type": "Person", "start": 0, "end": 5}], "relations": []}])
    )
    result, run = train_on(bad, tmp_path, debug=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2] == (
        f"allennlp train: error: {bad}, document 0: entity 0 spans [0, 5) but the sentence has 2 tokens "
        "(need 0 <= start < end <= 2)"
    )
    assert lines[-1] == "(SPERT_DEBUG=1 shows the traceback)"
    assert "Traceback" not in result.stderr + result.stdout
    assert "Traceback" in (run / "out.log").read_text()
    debug, _ = train_on(bad, tmp_path, debug=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "DataError" in debug.stderr


def test_errors_from_loading_an_encoder_or_a_checkpoint_are_explained(tmp_path):
    import torch
    from transformers import AutoConfig

    from spert_mt_plugin.cli_errors import explained

    try:
        AutoConfig.from_pretrained("/no/such/encoder")
    except OSError as error:
        encoder = explained(error, error.__traceback__)
    assert is_known(encoder)
    assert one_line(encoder) == "the encoder the config names, /no/such/encoder, cannot be loaded: no such folder"

    checkpoint = tmp_path / "training_state_e1_b0.th"
    checkpoint.write_bytes(b"PK\x03\x04 cut short")
    try:
        torch.load(checkpoint)
    except Exception as error:
        unreadable = explained(error, error.__traceback__)
    assert is_known(unreadable) and one_line(unreadable).startswith(f"{checkpoint}: cannot be read by torch.load (")

    bug = ZeroDivisionError("division by zero")
    assert explained(bug, None) is bug

"""
A resumed run is the run it would have been.

The pieces have their own tests: the generator states and where `ResumingDataLoader` puts them
back in test_random_state.py, the atomic checkpointer in test_checkpointer.py. The fast tests here
check their registered names and `spert-experiments`' callbacks. The slow ones kill fixture trainings
with SIGKILL (at a random epoch boundary, a random moment inside an epoch, and just after a
checkpoint inside an epoch), resume them (`allennlp train --recover`, `spert-experiments`) and
require the final metrics of an uninterrupted run of the same seed, bit for bit.

AllenNLP checkpoints at epoch ends unless told otherwise (the shipped configs): a run killed inside
an epoch restarts that epoch, exactly. With the checkpointer's `save_every_num_batches` it resumes
inside the epoch, exactly too (the training figures AllenNLP reports for that one epoch cover only
its remaining batches; every later figure is the uninterrupted run's).
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from spert_mt_plugin.training.checkpointer import AtomicCheckpointer
from spert_mt_plugin.training.random_state import RandomStateCallback
from tests.conftest import FIXTURES, PROJECT_ROOT

SEED = 13
EPOCHS = 12
# The fixture's first four sentences, 15 times over as training data (20 batches an epoch, long
# enough to kill a run inside one); validation and test on all six, so the figures move over the
# epochs without reaching 1.0.
TRAINING_COPIES = 15
# Checkpoints inside epochs, for the run that resumes inside one.
BATCHES_BETWEEN_CHECKPOINTS = 5
# One thread: floating-point sums over several threads round differently from run to run.
ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1", "SPERT_SEED": str(SEED)}
CHECKPOINT = re.compile(r"model_state_e(\d+)_b(\d+)\.th$")
# Metrics of the machine, not of the run.
UNCOMPARED = ("duration", "memory")


# --- the pieces ---------------------------------------------------------------------------------


def test_the_names_are_registered():
    from allennlp.training.callbacks import TrainerCallback
    from allennlp.training.checkpointer import Checkpointer

    import spert_mt_plugin  # noqa: F401

    assert TrainerCallback.by_name("spert_random_state") is RandomStateCallback
    assert Checkpointer.by_name("spert_atomic") is AtomicCheckpointer


def test_spert_experiments_adds_its_progress_callback_to_the_configs_callbacks(tmp_path, monkeypatch):
    import allennlp.commands.train

    from spert_mt_plugin.commands.experiments import train_run
    from spert_mt_plugin.results.runs import Run

    trained = []

    def fake_train_model(params, serialization_dir, recover):
        trained.append(params.as_dict())
        Path(serialization_dir, "metrics.json").write_text(json.dumps({"test_rel_f1": 0.5}))

    monkeypatch.setattr(allennlp.commands.train, "train_model", fake_train_model)
    run = Run(str(FIXTURES / "experiment.jsonnet"), 3, None)
    train_run(run, tmp_path, epochs=None)
    assert trained[0]["trainer"]["callbacks"] == [
        {"type": "spert_random_state"},
        {"type": "spert_progress", "label": run.name, "num_epochs": trained[0]["trainer"]["num_epochs"]},
    ]


# --- killed and resumed trainings ---------------------------------------------------------------


@pytest.fixture(scope="module")
def experiments(tmp_path_factory) -> Dict[str, Path]:
    """The fixture experiment on more training data, for 12 epochs; and the same with checkpoints inside epochs."""
    folder = tmp_path_factory.mktemp("resume")
    sentences = json.loads((FIXTURES / "data" / "sentences.json").read_text())
    (folder / "train.json").write_text(json.dumps(sentences[:4] * TRAINING_COPIES))
    base = (
        f"(import {json.dumps(str(FIXTURES / 'experiment.jsonnet'))}) + {{\n"
        f"  train_data_path: {json.dumps(str(folder / 'train.json'))},\n"
        f"  trainer+: {{ num_epochs: {EPOCHS}, optimizer+: {{ lr: 3e-4, head_lr: 6e-4 }} }},\n"
        "}"
    )
    configs = {"epoch_ends": folder / "experiment.jsonnet", "inside_epochs": folder / "inside.jsonnet"}
    configs["epoch_ends"].write_text(base)
    configs["inside_epochs"].write_text(
        f"(import 'experiment.jsonnet') + {{ trainer+: {{ checkpointer+: "
        f"{{ save_every_num_batches: {BATCHES_BETWEEN_CHECKPOINTS} }} }} }}"
    )
    return configs


def start(arguments: List[str], log: Path) -> subprocess.Popen:
    with open(log, "a") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "allennlp", *arguments],
            cwd=PROJECT_ROOT,
            env=ENVIRONMENT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


def finish(process: subprocess.Popen, log: Path) -> None:
    assert process.wait(timeout=600) == 0, tail(log)


def checkpoints(run: Path) -> List[Tuple[int, int]]:
    """(epochs done, batches done in the next) of every checkpoint in `run`, in order."""
    found = (CHECKPOINT.match(path.name) for path in run.glob("model_state_*.th"))
    return sorted((int(match.group(1)), int(match.group(2))) for match in found if match)


def wait_for(checkpoint: Tuple[int, int], run: Path, process: subprocess.Popen, log: Path) -> float:
    """Waits until `run` has `checkpoint` (complete: the atomic checkpointer writes its model state last)."""
    deadline = time.monotonic() + 600
    path = run / f"model_state_e{checkpoint[0]}_b{checkpoint[1]}.th"
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the training ended (exit {process.returncode}) before checkpoint {checkpoint}:\n{tail(log)}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no checkpoint {checkpoint} after 10 minutes:\n{tail(log)}")
        time.sleep(0.002)
    return time.monotonic()


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def figures(run: Path) -> Dict[str, float]:
    metrics = json.loads((run / "metrics.json").read_text())
    return {key: value for key, value in metrics.items() if not any(word in key for word in UNCOMPARED)}


def differences(run: Path, expected: Dict[str, float]) -> Dict[str, Tuple[float, float]]:
    found = figures(run)
    return {
        key: (found.get(key), expected.get(key))
        for key in found.keys() | expected.keys()
        if found.get(key) != expected.get(key)
    }


@pytest.fixture(scope="module")
def uninterrupted(experiments, tmp_path_factory) -> Dict[str, float]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    log = folder / "log.txt"
    finish(start(["train", str(experiments["epoch_ends"]), "-s", str(folder / "run")], log), log)
    metrics = figures(folder / "run")
    # the figures are worth comparing: they change over the epochs
    assert 0.0 < metrics["test_rel_f1"] < 1.0 and metrics["best_epoch"] < EPOCHS - 1, metrics
    return metrics


@pytest.mark.slow
def test_a_run_killed_at_an_epoch_boundary_and_inside_an_epoch_resumes_exactly(experiments, uninterrupted, tmp_path):
    choose = random.Random()
    run, log = tmp_path / "run", tmp_path / "log.txt"
    train = ["train", str(experiments["epoch_ends"]), "-s", str(run)]

    boundary = choose.randint(1, EPOCHS - 6)
    process = start(train, log)
    wait_for((boundary, 0), run, process, log)
    kill(process)
    assert not (run / "metrics.json").exists()

    # Inside an epoch: a random moment of the epoch after checkpoint `done`, timed by the two
    # epochs before it.
    done = choose.randint(boundary + 3, EPOCHS - 2)
    process = start(train + ["--recover"], log)
    started = [wait_for((epochs, 0), run, process, log) for epochs in (done - 2, done - 1, done)]
    epoch_time = min(started[1] - started[0], started[2] - started[1])
    time.sleep(choose.uniform(0.1, 0.5) * epoch_time)
    kill(process)
    where = f"killed after {boundary} epochs, then inside epoch {done + 1} ({epoch_time:.2f} s an epoch)"
    assert checkpoints(run)[-1] == (done, 0), f"the second kill came too late: {where}"
    assert f"Resuming with the random generators' states after epoch {boundary}." in log.read_text()

    finish(start(train + ["--recover"], log), log)
    assert differences(run, uninterrupted) == {}, where


@pytest.mark.slow
def test_spert_experiments_resumes_a_run_killed_inside_an_epoch_exactly(experiments, uninterrupted, tmp_path):
    # Checkpoints every few batches: the run resumes inside the epoch it was killed in. The epoch is
    # not the last one, whose training figures (for the remaining batches only) metrics.json shows.
    choose = random.Random()
    config = experiments["inside_epochs"]
    log = tmp_path / "log.txt"
    command = ["spert-experiments", str(config), "--seeds", str(SEED), "-o", str(tmp_path / "experiments")]
    run = tmp_path / "experiments" / config.stem / f"seed_{SEED}"
    epoch = choose.randint(1, EPOCHS - 2)
    batches = BATCHES_BETWEEN_CHECKPOINTS * choose.randint(1, 3)
    process = start(command, log)
    wait_for((epoch, batches), run, process, log)
    kill(process)
    where = f"killed in epoch {epoch + 1} after batch {batches}"
    assert checkpoints(run)[-1][0] == epoch and checkpoints(run)[-1][1] > 0, where

    finish(start(command, log), log)
    assert f"Resuming with the random generators' states of epoch {epoch + 1} after batch" in log.read_text()
    assert differences(run, uninterrupted) == {}, where

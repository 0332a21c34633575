"""
The model's behaviour, pinned: figures recorded with the code of commit 18371fe, before the code was
reorganised ("The code reads like the paper"), which a refactoring must leave bit-identical.

- the metrics of the fixture experiment trained with seed 13 for each kind of head and each switch;
- the training and validation losses of SpERT.MT and the SpERT baseline on one fixed CoNLL04 batch
  with the bundled encoder (skipped without the real data).

Floating-point results are only reproducible with the same CPU kernels and the same number of
threads. The figures are computed with one torch thread and kept per machine (torch's CPU
capability, the CPU's vector instruction sets, torch's version): on a recorded machine they must be
equal to the last bit; on another CPU of the same capability, where MKL and oneDNN pick other
kernels (an AMX CPU against the AVX-512 one first recorded: up to 8e-7 apart), equal up to
rounding; on a CPU of another capability the tests skip and say why.

A change that alters the model's arithmetic on purpose re-records them, for this machine only
(`python -m tests.test_behaviour_pinned`), and says so in its commit. To check a new machine to the
last bit, add its record computed with the pinned code (`--add-machine`, run from a worktree of
8b9a976 with this file and the pinned file copied in: that commit is 18371fe's code plus this test).
"""

import json
import sys
from typing import Any, Dict

import pytest
import torch

import spert_mt_plugin  # noqa: F401  (defaults of the configs' external variables)
from tests.conftest import FIXTURES, PROJECT_ROOT, SHARED_DATA, requires_shared_data

PINNED = FIXTURES / "pinned_behaviour.json"
SEED = 13
FIXTURE_EPOCHS = 10
# Every switch of the model on the fixture experiment (its defaults: mean reduction, all three
# SpERT.MT switches on; the shipped SpERT.MT configs sum).
FIXTURE_VARIANTS: Dict[str, Dict[str, Any]] = {
    "full_sum": {"loss_reduction": "sum"},
    "no_eil": {"iou_scaled_identification": False},
    "no_entity_logits": {"entity_logits": False},
    "spert": {"multitask": False, "iou_scaled_identification": False, "entity_logits": False},
    "spert_sum": {
        "multitask": False,
        "iou_scaled_identification": False,
        "entity_logits": False,
        "loss_reduction": "sum",
        "sigmoid_loss_over_types": "sum",
    },
}
CONLL04_CONFIGS = {"spert_mt": "training_configs/conll04.jsonnet", "spert": "training_configs/conll04_spert.jsonnet"}
CONLL04_SENTENCES = 4
# Metrics that measure the machine, not the model.
UNPINNED = ("time", "memory", "epoch", "duration")
# How far figures may drift on a CPU whose kernels round differently (seen: 8e-7), far below what
# any change of the arithmetic itself moves them.
ROUNDING = 1e-5


def cpu_capability() -> str:
    return torch.backends.cpu.get_cpu_capability()


def machine() -> Dict[str, Any]:
    """What decides the CPU kernels torch runs: its capability, the CPU's vector instruction sets
    (MKL and oneDNN choose by them, e.g. AMX over AVX-512) and torch's version."""
    flags = None
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            line = next(line for line in cpuinfo if line.startswith("flags"))
        vector = ("avx", "amx", "fma", "f16c", "sse", "ssse")
        flags = sorted(flag for flag in line.split(":", 1)[1].split() if flag.startswith(vector))
    except (OSError, StopIteration):
        pass
    return {"cpu_capability": cpu_capability(), "cpu_flags": flags, "torch": torch.__version__}


def one_thread(function):
    """Runs `function` with one torch thread: sums split over threads round differently."""

    def wrapped(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return function(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapped


@one_thread
def fixture_metrics(variant: str, tmp_dir: str) -> Dict[str, float]:
    """Trains the fixture experiment with `variant`'s switches and returns its final metrics."""
    import os

    from allennlp.commands.train import train_model_from_file
    from allennlp.common import cached_transformers

    # The tiny BERT's random weights must be drawn under this run's seed, not taken from the cache.
    cached_transformers._model_cache.clear()
    os.chdir(PROJECT_ROOT)
    # Dotted keys: an override of "model" itself would replace the whole section.
    overrides = {f"model.{key}": value for key, value in FIXTURE_VARIANTS[variant].items()}
    overrides.update(
        {"trainer.num_epochs": FIXTURE_EPOCHS, "random_seed": SEED, "numpy_seed": SEED, "pytorch_seed": SEED}
    )
    train_model_from_file(str(FIXTURES / "experiment.jsonnet"), tmp_dir, json.dumps(overrides))
    with open(f"{tmp_dir}/metrics.json") as f:
        metrics = json.load(f)
    return {k: v for k, v in metrics.items() if isinstance(v, float) and not any(w in k for w in UNPINNED)}


@one_thread
def conll04_losses(model_name: str) -> Dict[str, float]:
    """Training loss (negatives sampled, dropout on) and validation loss of a fresh model on one batch."""
    import os

    from allennlp.common import Params
    from allennlp.common.util import prepare_environment
    from allennlp.data import Batch, DatasetReader, Vocabulary
    from allennlp.models import Model

    os.chdir(PROJECT_ROOT)
    params = Params.from_file(CONLL04_CONFIGS[model_name], ext_vars={"SPERT_DATA_DIR": str(SHARED_DATA)})
    prepare_environment(Params({"random_seed": SEED, "numpy_seed": SEED, "pytorch_seed": SEED}))
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    instances = []
    for instance in reader.read(str(SHARED_DATA / "conll04" / "conll04_train.json")):
        instances.append(instance)
        if len(instances) == CONLL04_SENTENCES:
            break
    vocab = Vocabulary.from_params(params.pop("vocabulary"))
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    batch = Batch(instances)
    batch.index_instances(vocab)
    tensors = batch.as_tensor_dict()
    losses = {}
    torch.manual_seed(SEED)
    model.train()
    losses["train"] = model(**tensors)["loss"].item()
    model.eval()
    with torch.no_grad():
        losses["validation"] = model(**tensors)["loss"].item()
    return losses


def record() -> Dict[str, Any]:
    import tempfile

    pinned: Dict[str, Any] = {"machine": machine(), "fixture": {}, "conll04": {}}
    for variant in FIXTURE_VARIANTS:
        with tempfile.TemporaryDirectory() as tmp_dir:
            pinned["fixture"][variant] = fixture_metrics(variant, tmp_dir + "/run")
    for model_name in CONLL04_CONFIGS:
        pinned["conll04"][model_name] = conll04_losses(model_name)
    return pinned


def pinned() -> Dict[str, Any]:
    """This machine's record, or (compared up to rounding) one of a machine of the same capability."""
    records = json.loads(PINNED.read_text())["machines"]
    this = machine()
    for values in records:
        if values["machine"] == this:
            return {**values, "exact": True}
    for values in records:
        if values["machine"]["cpu_capability"] == this["cpu_capability"]:
            return {**values, "exact": False}
    recorded = sorted({values["machine"]["cpu_capability"] for values in records})
    pytest.skip(f"pinned on {', '.join(recorded)} CPUs; this one is {this['cpu_capability']}")


def assert_pinned(actual: Dict[str, float], values: Dict[str, Any], expected: Dict[str, float]) -> None:
    if values["exact"]:
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=ROUNDING)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(FIXTURE_VARIANTS))
def test_fixture_metrics_are_unchanged(variant, tmp_path):
    values = pinned()
    assert_pinned(fixture_metrics(variant, str(tmp_path / "run")), values, values["fixture"][variant])


@requires_shared_data
@pytest.mark.slow
@pytest.mark.parametrize("model_name", list(CONLL04_CONFIGS))
def test_conll04_batch_losses_are_unchanged(model_name):
    values = pinned()
    assert_pinned(conll04_losses(model_name), values, values["conll04"][model_name])


if __name__ == "__main__":
    this = record()
    others = []
    if "--add-machine" in sys.argv[1:]:
        others = [r for r in json.loads(PINNED.read_text())["machines"] if r["machine"] != this["machine"]]
    PINNED.write_text(json.dumps({"machines": others + [this]}, indent=2) + "\n")
    print(f"wrote {PINNED} ({len(others) + 1} machine(s))", file=sys.stderr)

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_ROOT / "fixtures"
TINY_BERT = str(FIXTURES / "tiny_bert")
# The real datasets: $SPERT_DATA_DIR if set, else ../shared/data beside the checkout.
SHARED_DATA = Path(os.environ.get("SPERT_TEST_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"))

# The tests' own ONNX cache (spert_mt_plugin/inference/onnx_cache.py), never the user's; the
# commands the tests run inherit it.
os.environ["SPERT_ONNX_CACHE"] = tempfile.mkdtemp(prefix="spert-test-onnx-cache-")
atexit.register(shutil.rmtree, os.environ["SPERT_ONNX_CACHE"], ignore_errors=True)

requires_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "conll04" / "conll04_types.json").exists(),
    reason=f"real datasets not found in {SHARED_DATA}",
)


# Parallel runs (scripts/test.sh: pytest-xdist, `-n 2 --dist loadgroup`). The tests of a group run
# on one worker, one after the other, and the groups are handed out before the other tests (they are
# the longest work). pytest-xdist 3.8's own `xdist_group` mark does not group on pytest 9 (it renames
# the items through an attribute pytest 9 no longer reads): groups are named here, by module.
XDIST_GROUPS = {
    # one Ray at a time, and tests/corpus/conftest.py's `reference` predicted once
    "tests/corpus/test_ray_cluster.py": "ray",
    "tests/corpus/test_ray_prediction.py": "ray",
    # the two-worker training of tests/training/conftest.py, trained once
    "tests/training/test_distributed.py": "one_node_two_workers",
    "tests/training/test_multi_node.py": "one_node_two_workers",
    # the module's uninterrupted reference run, trained once
    "tests/training/test_exact_resume.py": "exact_resume",
    # the module's two trained variants and their spert-thresholds runs, each made once
    "tests/commands/test_thresholds.py": "thresholds",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleGroupScheduling(LoadGroupScheduling):
        # Work units: a group's tests together, every other test alone. xdist hands out the units
        # with the most tests first.
        def _split_scope(self, nodeid: str) -> str:
            return XDIST_GROUPS.get(nodeid.split("::", 1)[0]) or super()._split_scope(nodeid)

    return ModuleGroupScheduling(config, log)


@pytest.fixture(autouse=True)
def _run_from_project_root(monkeypatch):
    # Configs and fixtures use paths relative to the project root, as `allennlp` users do.
    monkeypatch.chdir(PROJECT_ROOT)


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on (for servers the tests start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_fixture(serialization_dir, epochs: int = 60, model_switches=None) -> str:
    """
    Trains the fixture experiment (tiny encoder, seed 3, no validation) into `serialization_dir`
    for `epochs` epochs with `model_switches` (model parameters) and returns its archive.
    """
    import json

    from allennlp.commands.train import train_model_from_file
    from allennlp.common import cached_transformers

    import spert_mt_plugin  # noqa: F401  (registers the model; defaults of the config's variables)

    # AllenNLP 2.x overrides take dotted keys; a nested dict would replace the whole section.
    overrides = {
        "validation_data_path": None,
        "trainer.num_epochs": epochs,
        "trainer.learning_rate_scheduler": None,
        "random_seed": 3,
        "numpy_seed": 3,
        "pytorch_seed": 3,
        **{f"model.{key}": value for key, value in (model_switches or {}).items()},
    }
    # AllenNLP caches transformer models by name: the tiny BERT's random initial weights would be
    # those drawn by whichever test built it first. Cleared, they are drawn under this run's seed.
    cached_transformers._model_cache.clear()
    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    try:
        train_model_from_file(str(FIXTURES / "experiment.jsonnet"), str(serialization_dir), json.dumps(overrides))
    finally:
        os.chdir(cwd)
    return str(Path(serialization_dir) / "model.tar.gz")


@pytest.fixture(scope="session")
def trained_archive(tmp_path_factory) -> str:
    """A model trained to fit the fixture sentences on the tiny encoder (a few seconds)."""
    return train_fixture(tmp_path_factory.mktemp("trained") / "run")


# The fixture experiment and the model switches of each variant, for the model's tests.
CONFIG = str(FIXTURES / "experiment.jsonnet")
SENTENCES = str(FIXTURES / "data" / "sentences.json")
ABLATIONS = {
    "full": {},
    "no_mtl": {"multitask": False},
    "no_eil": {"iou_scaled_identification": False},
    "no_entity_logits": {"entity_logits": False},
    "spert": {"multitask": False, "iou_scaled_identification": False, "entity_logits": False},
}


def model_and_instances(**model_overrides):
    """
    A fresh (untrained) model of the fixture config with `model_overrides`, its instances and
    reader. Models built with the same seed have the same weights, whatever the overrides that
    create no parameter (thresholds, negatives, reduction, chunk size).
    """
    import torch
    from allennlp.common import Params
    from allennlp.common.testing import ModelTestCase
    from allennlp.data import DatasetReader
    from allennlp.models import Model

    import spert_mt_plugin  # noqa: F401  (registers the model; defaults of the config's variables)

    test_case = ModelTestCase()
    test_case.set_up_model(CONFIG, SENTENCES, seed=2)
    params = Params.from_file(CONFIG)
    reader = DatasetReader.from_params(params["dataset_reader"])
    model_params = params["model"]
    model_params.params.update(model_overrides)
    torch.manual_seed(2)
    model = Model.from_params(vocab=test_case.vocab, params=model_params)
    return model, test_case.instances, reader


def batch_of(model, instances):
    """The tensors of one batch of `instances`, indexed with the model's vocabulary."""
    from allennlp.data import Batch

    batch = Batch(instances)
    batch.index_instances(model.vocab)
    return batch.as_tensor_dict()

import json
import time

import pytest

from spert_mt_plugin.formats.label_studio_config import TagMapping
from spert_mt_plugin.service import retraining
from spert_mt_plugin.service.model_slot import ModelSlot
from spert_mt_plugin.service.retraining import (
    Retraining,
    TrainingError,
    TrainingSettings,
    training_config,
)
from spert_mt_plugin.vocabulary import TypesFileVocabulary
from tests.conftest import FIXTURES

MAPPING = TagMapping("label", "text", "text", ("Person",), ("Works_For",))


def task(identifier, *annotations):
    return {"id": identifier, "data": {"text": "x"}, "annotations": list(annotations)}


def test_the_training_config_reads_the_tasks_with_the_configs_tokenisation():
    config = {
        "dataset_reader": {"type": "spert_json", "token_indexers": {"tokens": "x"}, "max_span_width": 4, "other": 1},
        "validation_dataset_reader": {"type": "spert_json"},
        "train_data_path": "a",
        "validation_data_path": "b",
        "test_data_path": "c",
        "evaluate_on_test": True,
        "model": {"type": "spert_mt"},
    }
    trained = training_config(config, "run/train.json", "article", "run/types.json", "old.tar.gz")
    assert trained == {
        "dataset_reader": {
            "type": "label_studio",
            "data_key": "article",
            "types_file": "run/types.json",
            "token_indexers": {"tokens": "x"},
            "max_span_width": 4,
        },
        "train_data_path": "run/train.json",
        "evaluate_on_test": False,
        "model": {"type": "from_archive", "archive_file": "old.tar.gz"},
    }
    assert training_config(config, "t", "text", "y", None)["model"] == {"type": "spert_mt"}


class Predictor:
    def __init__(self, path):
        self.path = path
        self.model = type("Model", (), {"vocab": TypesFileVocabulary.from_types_file("fixtures/data/types.json")})()


def finished(rounds: Retraining):
    for _ in range(600):
        state = rounds.status()
        if state["state"] != "running":
            return state
        time.sleep(0.1)
    raise TimeoutError(rounds.status())


@pytest.fixture
def rounds(tmp_path, monkeypatch):
    """Rounds whose training writes a stand-in archive and whose held-out scores are set by the test."""
    archive = tmp_path / "old.tar.gz"
    archive.write_bytes(b"old")
    slot = ModelSlot(tmp_path / "work", Predictor, str(archive), model_version="v1")
    scores = {}

    def train(self, run_dir):
        (run_dir / "model").mkdir()
        (run_dir / "model" / "model.tar.gz").write_bytes(b"new")

    monkeypatch.setattr(Retraining, "_train", train)
    monkeypatch.setattr(
        retraining, "held_out_metrics", lambda archive, *_: {"rel_f1": scores[archive.endswith("old.tar.gz")]}
    )
    tasks = json.loads((FIXTURES / "label_studio" / "tasks.json").read_text())
    return Retraining(TrainingSettings(config=str(FIXTURES / "experiment.jsonnet")), slot), scores, tasks


@pytest.mark.parametrize("old, new, state, version", [(0.5, 0.5, "switched", "new"), (0.5, 0.4, "kept", "v1")])
def test_the_new_model_is_switched_to_when_it_scores_at_least_as_well_on_the_held_out_tasks(
    rounds, old, new, state, version
):
    rounds, scores, tasks = rounds
    scores.update({True: old, False: new})
    assert rounds.start(MAPPING, tasks=tasks)["state"] == "running"
    done = finished(rounds)
    assert done["state"] == state and (done["current"], done["new"]) == (old, new)
    if state == "kept":
        assert done["reason"] == "held-out rel_f1 0.4000 of the new model is worse than 0.5000"
    served = rounds.slot.get()[1]
    assert (served == "v1") == (version == "v1") and served.startswith("spert-mt-" if version == "new" else "v1")
    assert done["model_version"] == served


def test_a_second_round_waits_for_the_first(rounds, monkeypatch):
    rounds, scores, tasks = rounds
    scores.update({True: 0.5, False: 0.5})
    monkeypatch.setattr(
        Retraining, "_train", lambda self, run_dir: time.sleep(1) or (_ for _ in ()).throw(TrainingError("stopped"))
    )
    rounds.start(MAPPING, tasks=tasks)
    with pytest.raises(retraining.TrainingBusy, match="already running"):
        rounds.start(MAPPING, tasks=tasks)
    assert finished(rounds)["reason"] == "stopped"


@pytest.mark.slow
def test_a_failed_training_leaves_the_old_model_and_says_why(tmp_path):
    archive = tmp_path / "old.tar.gz"
    archive.write_bytes(b"old")
    slot = ModelSlot(tmp_path / "work", Predictor, str(archive), model_version="v1")
    config = tmp_path / "broken.jsonnet"
    source = (
        (FIXTURES / "experiment.jsonnet")
        .read_text()
        .replace("local tiny_bert = 'fixtures/tiny_bert';", "local tiny_bert = '/no/such/encoder';")
    )
    config.write_text(source)
    rounds = Retraining(TrainingSettings(config=str(config)), slot)
    rounds.start(MAPPING, tasks=json.loads((FIXTURES / "label_studio" / "tasks.json").read_text()))
    done = finished(rounds)
    assert done["state"] == "failed" and done["model_version"] == "v1" and slot.get()[1] == "v1"
    assert done["reason"].startswith("allennlp train exited with 1: ")
    assert "/no/such/encoder" in done["reason"] and "\n" not in done["reason"]

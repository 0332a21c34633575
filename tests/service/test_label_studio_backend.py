import json
import time

import pytest

from spert_mt_plugin.service.label_studio_backend import create_backend
from spert_mt_plugin.service.model_slot import ModelSlot
from spert_mt_plugin.service.retraining import Retraining, TrainingSettings
from spert_mt_plugin.vocabulary import TypesFileVocabulary

TEXT = "Ada Lovelace works for Acme Corp in Paris."
CONFIG = """<View>
  <Relations><Relation value="Works_For"/><Relation value="Located_In"/></Relations>
  <Labels name="ner" toName="body"><Label value="Person"/><Label value="Organization"/></Labels>
  <Text name="body" value="$article"/>
</View>"""


def entity(kind, start, end, char_start, char_end, score):
    return {"type": kind, "start": start, "end": end, "char_start": char_start, "char_end": char_end, "score": score}


class DocumentPredictor:
    """Stands in for the model: one fixed prediction for the document TEXT, counting its calls."""

    def __init__(self):
        self.model = type("Model", (), {"vocab": TypesFileVocabulary.from_types_file("fixtures/data/types.json")})()
        self.calls = 0

    def predict_json(self, inputs):
        self.calls += 1
        assert inputs == {"document": TEXT}
        sentence = {
            "tokens": TEXT[:-1].split() + ["."],
            "entities": [
                entity("Person", 0, 2, 0, 12, 2.0),
                entity("Organization", 4, 6, 23, 32, 1.0),
                entity("Location", 7, 8, 36, 41, 3.0),
            ],
            "relations": [
                {"type": "Works_For", "head": 0, "tail": 1, "score": 0.5},
                {"type": "Located_In", "head": 1, "tail": 2, "score": 1.5},
            ],
        }
        return {"document": TEXT, "sentences": [sentence]}


@pytest.fixture
def backend(tmp_path):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"not read: the predictor is a stand-in")
    predictor = DocumentPredictor()
    slot = ModelSlot(tmp_path / "work", lambda path: predictor, str(archive), model_version="v1")
    retraining = Retraining(TrainingSettings(config="fixtures/experiment.jsonnet"), slot)
    return create_backend(slot, retraining).test_client(), predictor


def test_health_and_setup_answer_the_model_version(backend):
    client, _ = backend
    assert client.get("/health").get_json()["status"] == "UP"
    assert client.post("/setup", json={"project": "1.1700000000", "schema": CONFIG}).get_json() == {
        "model_version": "v1"
    }


def test_predictions_are_label_studio_results_under_the_configs_tag_names(backend):
    client, _ = backend
    body = {"tasks": [{"id": 4, "data": {"article": TEXT}}], "label_config": CONFIG, "project": "1.1700000000"}
    answer = client.post("/predict", json=body).get_json()
    assert answer["model_version"] == "v1"
    [prediction] = answer["results"]
    # The config has no Location label: the Paris entity and the relation to it are left out.
    assert prediction == {
        "model_version": "v1",
        "score": pytest.approx((2.0 + 1.0 + 0.5) / 3),
        "result": [
            {
                "id": "e0",
                "from_name": "ner",
                "to_name": "body",
                "type": "labels",
                "value": {"start": 0, "end": 12, "text": "Ada Lovelace", "labels": ["Person"]},
                "score": 2.0,
            },
            {
                "id": "e1",
                "from_name": "ner",
                "to_name": "body",
                "type": "labels",
                "value": {"start": 23, "end": 32, "text": "Acme Corp", "labels": ["Organization"]},
                "score": 1.0,
            },
            {
                "from_id": "e0",
                "to_id": "e1",
                "type": "relation",
                "direction": "right",
                "labels": ["Works_For"],
                "score": 0.5,
            },
        ],
    }


def test_a_bad_task_gets_an_error_in_place_of_its_prediction_and_the_others_are_answered(backend, caplog):
    client, predictor = backend
    tasks = [{"id": 8, "data": {"text": TEXT}}, {"id": 9, "data": {"article": TEXT}}]
    answer = client.post("/predict", json={"tasks": tasks, "label_config": CONFIG}).get_json()
    assert answer["results"][0] == {
        "error": "task 8: no text under data['article'] (the Text tag's value); it has 'text'"
    }
    assert len(answer["results"][1]["result"]) == 3 and predictor.calls == 1
    assert "task 8: no text under data['article']" in caplog.text


def test_a_config_without_the_models_labels_is_refused_with_the_reason_in_the_status_line(backend):
    client, _ = backend
    config = '<View><Labels name="l" toName="t"><Label value="Noun"/></Labels><Text name="t" value="$text"/></View>'
    response = client.post("/setup", json={"project": "1.1", "schema": config})
    message = (
        "none of the labeling config's labels (Noun) is an entity type of the model (Person, Organization, Location)"
    )
    assert response.status == f"400 {message}"
    assert response.get_json() == {"error": message}
    response = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXT}}], "label_config": config})
    assert response.status_code == 400
    # and the backend goes on serving
    assert client.get("/health").status_code == 200


def test_other_webhook_events_are_acknowledged_and_training_needs_annotations(backend):
    client, _ = backend
    response = client.post("/webhook", json={"action": "ANNOTATION_CREATED", "project": {"id": 1}})
    assert response.status_code == 200 and response.get_json()["training"] is False
    response = client.post("/train", json={"annotations": [], "label_config": CONFIG})
    assert response.status_code == 400
    assert (
        response.get_json()["error"]
        == "0 annotated task(s): a round needs at least 2, one to train on and one held out to compare"
    )
    assert client.get("/train").get_json() == {"state": "none"}
    response = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 3, "label_config": CONFIG}})
    assert response.status_code == 400
    assert "exporting the annotations needs Label Studio's URL and an API key" in response.get_json()["error"]


def test_the_slot_switches_for_every_worker_through_its_state_file(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(b"a")
    loads = []

    def load(path):
        loads.append(path)
        return f"predictor of {path}"

    first = ModelSlot(tmp_path / "work", load, str(archive))
    # another worker, forked with the same state
    second = ModelSlot(tmp_path / "work", load, str(archive))
    version = first.get()[1]
    assert version.startswith("spert-mt-") and second.get()[1] == version
    retrained = tmp_path / "b.tar.gz"
    retrained.write_bytes(b"b")
    first.switch(str(retrained), "v2")
    assert first.get() == (f"predictor of {retrained}", "v2")
    assert json.loads((tmp_path / "work" / "current.json").read_text())["model_version"] == "v2"
    # the other worker answers with the old model while it loads the new one
    assert second.get()[1] in (version, "v2")
    for _ in range(200):
        if second.get()[1] == "v2":
            break
        time.sleep(0.01)
    assert second.get() == (f"predictor of {retrained}", "v2")
    # a restart with the same archive resumes with the retrained model
    assert ModelSlot(tmp_path / "work", load, str(archive)).get()[1] == "v2"

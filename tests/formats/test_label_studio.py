import json

import pytest

from spert_mt_plugin.formats import label_studio
from spert_mt_plugin.formats.atomic import write_json
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.label_studio_conversion import labelstudio_to_spert, spert_to_labelstudio
from spert_mt_plugin.formats.text import blank_pipeline
from tests.conftest import FIXTURES
from tests.formats.test_doccano import readable
from tests.formats.test_text_documents import PREDICTED_TEXT, write_document_prediction

EXPORT = FIXTURES / "label_studio" / "tasks.json"
TYPES = str(FIXTURES / "doccano" / "types.json")


def test_export_becomes_sentences_with_their_annotation_and_a_report():
    documents, _, skipped = labelstudio_to_spert(str(EXPORT), TYPES)
    read = readable(documents)
    # task 7: two sentences; task 8: two (the entity "Yahoo! Inc" joins spaCy's "Dan joined Yahoo!" and
    # "Inc in Paris."); task 9: every annotation cancelled, no sentence
    assert list(read) == ["7#0", "7#1", "8#0", "8#1"]
    # task 7's first annotation was cancelled: its second is read (the cancelled one calls Paris a Person)
    tokens, entities, relations = read["7#0"]
    assert len(tokens) == 9
    assert entities == [("Ada Lovelace", "Person"), ("Acme Corp", "Organization"), ("Paris", "Location")]
    # "right": from -> to; "left" (from Paris to Acme Corp): to -> from
    assert relations == [("Ada Lovelace", "Acme Corp", "Works_For"), ("Acme Corp", "Paris", "Located_In")]
    # "bi" from Carol to Bob, of the symmetric Married_To: once, in text order
    assert read["7#1"] == (
        ["Bob", "is", "married", "to", "Carol", "."],
        [("Bob", "Person"), ("Carol", "Person")],
        [("Bob", "Carol", "Married_To")],
    )
    # Oslo has two labels: left out, and so is the relation to it
    assert read["8#0"] == (
        ["Eve", "left", "Acme", "for", "Oslo", "."],
        [("Eve", "Person"), ("Acme", "Organization")],
        [("Eve", "Acme", "Works_For")],
    )
    tokens, entities, relations = read["8#1"]
    assert tokens == ["Dan", "joined", "Yahoo", "!", "Inc", "in", "Paris", "."]
    assert entities == [("Dan", "Person"), ("Yahoo ! Inc", "Organization"), ("Paris", "Location")]
    assert relations == [("Yahoo ! Inc", "Paris", "Located_In")]
    assert sum(len(d["entities"]) for d in documents) == 10 and sum(len(d["relations"]) for d in documents) == 5
    # the report's line is the task's index
    assert [(item.line, item.kind, item.reason) for item in skipped] == [
        (1, "choices result", "Label Studio 'choices' results are not represented"),
        (1, "entity", "a span takes one entity type, the region has 2: Location, Organization"),
        (1, "relation", "its region a3 is not an entity (reported on its own)"),
        (1, "relation", "a bidirectional 'Works_For' relation, and the types file does not mark it symmetric"),
        (1, "relation", "the relation has no label"),
        (2, "cancelled task", "every annotation of the task was cancelled (skipped by its annotators)"),
    ]
    assert json.loads(skipped[1].annotation)["id"] == "a3"


def test_without_a_types_file_no_bidirectional_relation_is_kept():
    documents, types, skipped = labelstudio_to_spert(str(EXPORT))
    assert readable(documents)["7#1"][2] == []
    assert sum(item.reason.endswith("and no types file is given") for item in skipped) == 2
    assert types.relation_types == ["Located_In", "Works_For"] and types.symmetric_relations == set()


def test_labelstudio_to_spert_to_labelstudio_to_spert_gives_the_same_sentences(tmp_path):
    documents, _, _ = labelstudio_to_spert(str(EXPORT), TYPES)
    write_json(documents, str(tmp_path / "data.json"))
    tasks = spert_to_labelstudio(str(tmp_path / "data.json"))
    # gold: completed annotations; the task's name in data["orig_id"] (Label Studio gives new task ids)
    assert [task["data"]["orig_id"] for task in tasks] == ["7", "8"]
    assert tasks[0]["data"]["text"] == "Ada Lovelace works for Acme Corp in Paris .\nBob is married to Carol ."
    result = tasks[0]["annotations"][0]["result"]
    assert result[3] == {
        "id": "e3",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 44, "end": 47, "text": "Bob", "labels": ["Person"]},
    }
    assert result[-1] == {
        "from_id": "e3",
        "to_id": "e4",
        "type": "relation",
        "direction": "right",
        "labels": ["Married_To"],
    }
    assert "predictions" not in tasks[0]
    write_json(tasks, str(tmp_path / "tasks.json"))
    again, _, skipped = labelstudio_to_spert(str(tmp_path / "tasks.json"), TYPES)
    assert again == documents
    assert skipped == []


def test_predictions_become_pre_annotations_with_scores_on_the_original_text(tmp_path):
    write_document_prediction(tmp_path / "pred.jsonl", 3.0, 1.5, 1.0, 2.5)
    [task] = spert_to_labelstudio(str(tmp_path / "pred.jsonl"), model_version="run 3")
    assert task["data"] == {"text": PREDICTED_TEXT, "orig_id": "news 7"} and "annotations" not in task
    [predicted] = task["predictions"]
    # the mean of the four scores
    assert predicted["model_version"] == "run 3" and predicted["score"] == (3.0 + 1.5 + 1.0 + 2.5) / 4
    assert [(item.get("value", {}).get("text"), item["score"]) for item in predicted["result"]] == [
        ("Bob", 3.0),
        ("Oslo", 1.5),
        ("Eve", 2.5),
        (None, 1.0),
    ]
    assert predicted["result"][3]["from_id"] == "e0" and predicted["result"][3]["to_id"] == "e1"
    # accepted in Label Studio, the prediction is an annotation: training data again
    task["annotations"] = [{"id": 1, "result": predicted["result"]}]
    (tmp_path / "accepted.json").write_text(json.dumps([task]))
    documents, _, skipped = labelstudio_to_spert(str(tmp_path / "accepted.json"), TYPES)
    assert [d["orig_id"] for d in documents] == ["news 7#0", "news 7#1"]
    assert documents[0]["tokens"] == ["Bob", "met", "Carol", "in", "Oslo", "."]
    assert documents[0]["relations"] == [{"type": "Located_In", "head": 0, "tail": 1}]
    assert skipped == []
    # forced: gold as predictions, predictions as annotations
    [as_annotation] = spert_to_labelstudio(str(tmp_path / "pred.jsonl"), predictions=False)
    assert "score" not in as_annotation["annotations"][0]["result"][0]


def test_the_text_key_is_an_option(tmp_path):
    tasks = [{"id": 1, "data": {"body": "Ada met Bob."}, "annotations": []}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    [(skipped, [(location, sentence)])] = label_studio.read_file(
        str(tmp_path / "tasks.json"), blank_pipeline("en"), data_key="body"
    )
    # without annotations: unannotated text
    assert location.endswith("tasks.json, task 0 (id 1), sentence 0")
    assert sentence.tokens == ["Ada", "met", "Bob", "."] and sentence.entities is None and skipped == []
    with pytest.raises(DataError, match=r"tasks.json, task 0 \(id 1\): data\['text'\] must be the text"):
        list(label_studio.read_file(str(tmp_path / "tasks.json"), blank_pipeline("en")))


def region(identifier, start, end, labels, text=None):
    value = {"start": start, "end": end, "labels": labels}
    if text is not None:
        value["text"] = text
    return {"id": identifier, "from_name": "label", "to_name": "text", "type": "labels", "value": value}


def relation(head, tail, direction="right", labels=("Works_For",)):
    return {"from_id": head, "to_id": tail, "type": "relation", "direction": direction, "labels": list(labels)}


def task_with(*result):
    return {"id": 12, "data": {"text": "Ada works for Acme."}, "annotations": [{"id": 4, "result": list(result)}]}


ADA, ACME = region("r1", 0, 3, ["Person"], "Ada"), region("r2", 14, 18, ["Organization"])


@pytest.mark.parametrize(
    "task, message",
    [
        (
            task_with(region("r1", 0, 30, ["Person"])),
            r"task 1 \(id 12\), annotation 4, result 0 \(region r1\): offsets 0-30",
        ),
        (task_with(region("r1", 0, 3, ["Person"], "Eve")), r"result 0 \(region r1\): the text 'Eve' does not match"),
        (task_with(ADA, region("r2", 14, 18, ["Place"])), r"result 1 \(region r2\): entity type 'Place' is not in"),
        (task_with(ADA, ACME, relation("r1", "r9")), r"result 2: the relation's to_id 'r9' is no region"),
        (task_with(ADA, ACME, relation("r1", "r2", "up")), r"result 2: direction 'up' is not one of right, left, bi"),
        (task_with(ADA, ACME, relation("r1", "r2", labels=["Hates"])), r"result 2: relation type 'Hates' is not in"),
        (task_with(ADA, ACME, relation("r1", "r2", labels=["Works_For", "Located_In"])), r"a pair takes one relation"),
        (task_with(ADA, {"id": "x"}), r"result 1: a result needs a 'type'"),
        ({"id": 12, "annotations": []}, r"task 1 \(id 12\): missing key 'data'"),
    ],
)
def test_bad_tasks_name_file_task_and_result(tmp_path, task, message):
    (tmp_path / "tasks.json").write_text(json.dumps([task_with(ADA, ACME), task]))
    with pytest.raises(DataError, match=message):
        labelstudio_to_spert(str(tmp_path / "tasks.json"), TYPES)


def test_a_relation_with_two_labels_gives_two_relations(tmp_path):
    text = "Ada and Bob."
    tasks = [
        {
            "data": {"text": text},
            "annotations": [
                {
                    "result": [
                        region("a", 0, 3, ["Person"]),
                        region("b", 8, 11, ["Person"]),
                        relation("a", "b", labels=["Works_For", "Married_To"]),
                    ]
                }
            ],
        }
    ]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    [(_, [(_, sentence)])] = label_studio.read_file(str(tmp_path / "tasks.json"), blank_pipeline("en"))
    assert sentence.relations == [(0, 1, "Married_To"), (0, 1, "Works_For")]


def test_offsets_in_utf16_code_units_are_recognised_by_the_region_text(tmp_path):
    text = "Ada 😀 works for 🚀 Acme Corp."

    def utf16(index):
        return len(text[:index].encode("utf-16-le")) // 2

    acme = text.index("Acme Corp")
    # As JavaScript counts: the two emoji take two units each, so Acme Corp starts 2 units later.
    assert (utf16(acme), utf16(acme + 9)) == (acme + 2, acme + 11)
    tasks = [
        {
            "data": {"text": text},
            "annotations": [
                {
                    "result": [
                        region("a", 0, 3, ["Person"], "Ada"),  # before any emoji: both counts agree
                        region("b", utf16(acme), utf16(acme + 9), ["Organization"], "Acme Corp"),
                        relation("a", "b"),
                    ]
                }
            ],
        }
    ]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    [(skipped, [(_, sentence)])] = label_studio.read_file(str(tmp_path / "tasks.json"), blank_pipeline("en"))
    words = sentence.tokens
    assert skipped == []
    assert [(words[start:end], kind) for start, end, kind in sentence.entities] == [
        (["Ada"], "Person"),
        (["Acme", "Corp"], "Organization"),
    ]
    assert sentence.relations == [(0, 1, "Works_For")]
    # Offsets that match neither count stay an error naming them.
    tasks[0]["annotations"][0]["result"][1] = region("b", acme + 1, acme + 10, ["Organization"], "Acme Corp")
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    with pytest.raises(DataError, match=r"region b\): the text 'Acme Corp' does not match its offsets"):
        list(label_studio.read_file(str(tmp_path / "tasks.json"), blank_pipeline("en")))

import json

import pytest

from spert_mt_plugin.formats import doccano
from spert_mt_plugin.formats.atomic import write_json
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from tests.conftest import FIXTURES

EXPORT = FIXTURES / "doccano" / "train.jsonl"
TYPES = str(FIXTURES / "doccano" / "types.json")


def readable(documents):
    """Per orig_id: tokens, entities as (text, type), relations as (head text, tail text, type)."""
    result = {}
    for document in documents:
        tokens, entities = document["tokens"], document.get("entities", [])
        text = [" ".join(tokens[e["start"] : e["end"]]) for e in entities]
        result[document["orig_id"]] = (
            tokens,
            [(span, e["type"]) for span, e in zip(text, entities)],
            [(text[r["head"]], text[r["tail"]], r["type"]) for r in document.get("relations", [])],
        )
    return result


def test_export_becomes_sentences_with_their_annotation_and_a_report():
    documents, types, skipped = doccano.doccano_to_spert(str(EXPORT), TYPES)
    read = readable(documents)
    # record 1 holds two sentences, record 2 one (the entity "Yahoo! Inc" joins spaCy's two), record 3 one
    assert list(read) == ["1#0", "1#1", "2#0", "3#0"]
    tokens, entities, relations = read["1#0"]
    assert len(tokens) == 9
    assert entities == [("Ada Lovelace", "Person"), ("Acme Corp", "Organization"), ("Paris", "Location")]
    assert relations == [("Ada Lovelace", "Acme Corp", "Works_For"), ("Acme Corp", "Paris", "Located_In")]
    assert read["1#1"][2] == [("Bob", "Carol", "Married_To")]
    tokens, entities, relations = read["2#0"]
    # "Oslo" inside "OsloTech" splits the word; the selection "Eve " loses its space
    assert tokens == ["Eve", "works", "for", "Yahoo", "!", "Inc", "at", "Oslo", "Tech", "Park", "."]
    assert entities == [("Eve", "Person"), ("Yahoo ! Inc", "Organization"), ("Oslo", "Location")]
    assert relations == [("Eve", "Yahoo ! Inc", "Works_For"), ("Yahoo ! Inc", "Oslo", "Located_In")]
    assert read["3#0"] == (["It", "rained", "all", "day", "."], [], [])
    assert sum(len(d["entities"]) for d in documents) == 8 and sum(len(d["relations"]) for d in documents) == 5
    # Bob -> Acme Corp spans two sentences; Eve -> Eve relates an entity to itself
    assert [(item.line, item.kind, item.reason) for item in skipped] == [
        (1, "relation", "its arguments are in different sentences"),
        (2, "relation", "it relates an entity to itself"),
    ]
    assert json.loads(skipped[0].annotation) == {"id": 4, "from_id": 104, "to_id": 102, "type": "Works_For"}
    assert types.entity_types == ["Person", "Organization", "Location"]


def test_without_a_types_file_the_types_are_the_labels_seen():
    _, types, _ = doccano.doccano_to_spert(str(EXPORT))
    assert types.entity_types == ["Location", "Organization", "Person"]
    assert types.relation_types == ["Located_In", "Married_To", "Works_For"]
    assert types.symmetric_relations == set()


def test_doccano_to_spert_to_doccano_to_spert_gives_the_same_sentences(tmp_path):
    documents, _, _ = doccano.doccano_to_spert(str(EXPORT), TYPES)
    write_json(documents, str(tmp_path / "data.json"))
    records = doccano.spert_to_doccano(str(tmp_path / "data.json"))
    # one record per document, its sentences a line each, tokens joined by single spaces
    assert [record["orig_id"] for record in records] == ["1", "2", "3"]
    assert records[0]["text"] == "Ada Lovelace works for Acme Corp in Paris .\nBob is married to Carol ."
    assert records[0]["entities"][3] == {"id": 4, "label": "Person", "start_offset": 44, "end_offset": 47}
    assert records[0]["relations"][2] == {"id": 3, "from_id": 4, "to_id": 5, "type": "Married_To"}
    write_json(records, str(tmp_path / "back.jsonl"), lines=True)
    again, _, skipped = doccano.doccano_to_spert(str(tmp_path / "back.jsonl"), TYPES)
    assert again == documents
    assert skipped == []


def test_predictions_become_records_without_scores(tmp_path):
    prediction = {
        "tokens": ["Bob", "met", "Carol", "in", "Oslo", "."],
        "entities": [
            {"type": "Person", "start": 0, "end": 1, "score": 3.5, "text": "Bob", "char_start": 0, "char_end": 3},
            {"type": "Location", "start": 4, "end": 5, "score": 1.5, "text": "Oslo", "char_start": 19, "char_end": 23},
        ],
        "relations": [{"type": "Located_In", "head": 0, "tail": 1, "score": 0.9}],
    }
    (tmp_path / "pred.jsonl").write_text(json.dumps(prediction) + "\n")
    [record] = doccano.spert_to_doccano(str(tmp_path / "pred.jsonl"))
    # no original text in a sentence's prediction: its tokens joined by spaces, offsets into that text
    assert record == {
        "text": "Bob met Carol in Oslo .",
        "entities": [
            {"id": 1, "label": "Person", "start_offset": 0, "end_offset": 3},
            {"id": 2, "label": "Location", "start_offset": 17, "end_offset": 21},
        ],
        "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "Located_In"}],
        "orig_id": "doc0",
    }


def test_sequence_labeling_export_gives_entities_and_a_record_without_annotation_is_text(tmp_path):
    lines = [
        {"id": 5, "text": "Ada met Bob.", "label": [[0, 3, "Person"], [8, 11, "Person"]], "Comments": []},
        {"text": "Eve left."},
    ]
    (tmp_path / "export.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    read = list(doccano.read_file(str(tmp_path / "export.jsonl"), blank_pipeline("en")))
    [(_, [(location, labelled)]), (_, [(_, text)])] = read
    assert location.endswith("export.jsonl, line 1 (id 5), sentence 0")
    assert labelled.entities == [(0, 1, "Person"), (2, 3, "Person")] and labelled.relations == []
    # no annotation keys: unannotated text, named by its line
    assert text.tokens == ["Eve", "left", "."] and text.entities is None and text.doc_id == "line2#0"


GOOD = {
    "id": 7,
    "text": "Ada works for Acme.",
    "entities": [
        {"id": 1, "label": "Person", "start_offset": 0, "end_offset": 3},
        {"id": 2, "label": "Organization", "start_offset": 14, "end_offset": 18},
    ],
    "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "Works_For"}],
}


def edited(change):
    record = json.loads(json.dumps(GOOD))
    change(record)
    return record


@pytest.mark.parametrize(
    "record, message",
    [
        (
            edited(lambda r: r["entities"][1].update(end_offset=40)),
            r"line 2 \(id 7\), entity 1: offsets 14-40 are outside the text \(19 characters",
        ),
        (
            edited(lambda r: r["entities"][0].update(label="Place")),
            r"line 2 \(id 7\), entity 0: entity type 'Place' is not in the types file",
        ),
        (
            edited(lambda r: r["relations"][0].update(to_id=9)),
            r"line 2 \(id 7\), relation 0: to_id 9 is not an entity id of this record",
        ),
        (
            edited(lambda r: r["relations"][0].update(type="Employs")),
            r"line 2 \(id 7\), relation 0: relation type 'Employs' is not in the types file",
        ),
        (
            edited(lambda r: r["entities"][1].update(id=1)),
            r"line 2 \(id 7\), entity 1: the entity id 1 is already used",
        ),
        (edited(lambda r: r["entities"][0].pop("label")), r"line 2 \(id 7\), entity 0: missing 'label'"),
        (edited(lambda r: r["entities"][0].update(start_offset="0")), r"entity 0: start and end offsets must be"),
        (edited(lambda r: r.pop("relations")), r"line 2 \(id 7\): has 'entities' but no 'relations'"),
        (edited(lambda r: r.pop("text")), r"line 2 \(id 7\): missing key 'text'"),
        (edited(lambda r: r.update(text="Ada works for     .")), r"entity 1: the entity covers only whitespace"),
    ],
)
def test_bad_records_name_file_line_and_record(tmp_path, record, message):
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(DataError, match=message):
        doccano.doccano_to_spert(str(path), TYPES)


def test_malformed_json_names_its_line(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(GOOD) + '\n\n{"text": \n')
    with pytest.raises(DataError, match=r"export.jsonl, line 3: malformed JSON"):
        list(doccano.read_file(str(path), blank_pipeline("en"), EntityRelationTypes.from_file(TYPES)))

import json
from pathlib import Path

import pytest

from spert_mt_plugin.formats import dygie
from spert_mt_plugin.formats.atomic import write_json
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from tests.conftest import FIXTURES

SCIERC_DYGIE = Path("../shared/data/scierc_dygie/train.json")


def test_read_sentences_makes_indices_sentence_level_and_restores_brackets(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        json.dumps(
            {
                "doc_key": "d",
                "sentences": [["Bob", "left"], ["Acme", "-LRB-", "Oslo", "-RRB-"]],
                "ner": [[[0, 0, "Person"]], [[2, 2, "ORG"], [4, 4, "LOC"]]],
                "relations": [[], [[4, 4, 2, 2, "LOCATED-IN"]]],
            }
        )
        + "\n"
    )
    assert list(dygie.read_sentences(str(path))) == [
        (f"{path}, line 1 (doc_key d), sentence 0", Sentence(["Bob", "left"], [(0, 1, "Person")], [], "d#0")),
        (
            f"{path}, line 1 (doc_key d), sentence 1",
            Sentence(["Acme", "(", "Oslo", ")"], [(0, 1, "ORG"), (2, 3, "LOC")], [(1, 0, "LOCATED-IN")], "d#1"),
        ),
    ]


def test_match_type_case_takes_the_types_file_spelling():
    types = EntityRelationTypes(["Org", "Loc"], ["Located-In"])
    sentence = Sentence(["Acme", "Oslo"], [(0, 1, "ORG"), (1, 2, "Place")], [(1, 0, "LOCATED-IN")])
    assert dygie.match_type_case(sentence, types) == Sentence(
        ["Acme", "Oslo"], [(0, 1, "Org"), (1, 2, "Place")], [(1, 0, "Located-In")]
    )
    unannotated = Sentence(["Acme"], None, None)
    assert dygie.match_type_case(unannotated, types) == Sentence(["Acme"], None, None)


def test_dygie_to_spert_to_dygie_is_the_identity(tmp_path):
    source = FIXTURES / "data" / "sentences.dygie.jsonl"
    documents = dygie.dygie_to_spert(str(source))
    assert documents[0]["orig_id"] == "docA#0"
    write_json(documents, str(tmp_path / "d.json"))
    back = dygie.spert_to_dygie(str(tmp_path / "d.json"))
    assert back == [json.loads(line) for line in source.read_text().splitlines()]


def test_unannotated_spert_stays_unannotated_through_dygie(tmp_path):
    sentences = [
        {"tokens": ["Bob", "(", "CEO", ")", "left", "."], "orig_id": "news#0"},
        {"tokens": ["Eve", "stayed", "."], "orig_id": "news#1"},
        {"tokens": ["Alone", "."]},
    ]
    (tmp_path / "text.json").write_text(json.dumps(sentences))
    documents = dygie.spert_to_dygie(str(tmp_path / "text.json"))
    assert documents == [
        {"doc_key": "news", "sentences": [["Bob", "-LRB-", "CEO", "-RRB-", "left", "."], ["Eve", "stayed", "."]]},
        {"doc_key": "doc2", "sentences": [["Alone", "."]]},
    ]
    write_json(documents, str(tmp_path / "text.jsonl"), lines=True)
    read_back = list(dygie.read_sentences(str(tmp_path / "text.jsonl")))
    assert [(s.tokens, s.entities, s.relations, s.doc_id) for _, s in read_back] == [
        (["Bob", "(", "CEO", ")", "left", "."], None, None, "news#0"),
        (["Eve", "stayed", "."], None, None, "news#1"),
        (["Alone", "."], None, None, "doc2#0"),
    ]
    assert dygie.dygie_to_spert(str(tmp_path / "text.jsonl")) == [
        {"tokens": ["Bob", "(", "CEO", ")", "left", "."], "orig_id": "news#0"},
        {"tokens": ["Eve", "stayed", "."], "orig_id": "news#1"},
        {"tokens": ["Alone", "."], "orig_id": "doc2#0"},
    ]


def test_annotated_sentence_without_entities_stays_annotated_through_dygie(tmp_path):
    sentences = [{"tokens": ["Nothing", "here", "."], "entities": [], "relations": [], "orig_id": "empty#0"}]
    (tmp_path / "gold.json").write_text(json.dumps(sentences))
    documents = dygie.spert_to_dygie(str(tmp_path / "gold.json"))
    assert documents == [{"doc_key": "empty", "sentences": [["Nothing", "here", "."]], "ner": [[]], "relations": [[]]}]


def test_document_mixing_annotated_and_unannotated_sentences_is_an_error(tmp_path):
    sentences = [
        {"tokens": ["Bob", "left", "."], "entities": [{"type": "Person", "start": 0, "end": 1}], "relations": []},
        {"tokens": ["Eve", "stayed", "."]},
    ]
    sentences[0]["orig_id"], sentences[1]["orig_id"] = "news#0", "news#1"
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(sentences))
    with pytest.raises(DataError) as error:
        dygie.spert_to_dygie(str(path))
    assert str(error.value) == (
        f"{path}: DyGIE document 'news' mixes annotated and unannotated sentences ({path}, document 0 "
        f"(orig_id news#0) has 'entities' and 'relations', {path}, document 1 (orig_id news#1) has "
        "neither); DyGIE marks a whole document annotated or not, so annotate all its sentences or none"
    )


@pytest.mark.skipif(not SCIERC_DYGIE.exists(), reason="needs ../shared/data")
def test_scierc_dygie_round_trip(tmp_path):
    documents = dygie.dygie_to_spert(str(SCIERC_DYGIE))
    assert len(documents) == 1861
    write_json(documents, str(tmp_path / "s.json"))
    original = [json.loads(line) for line in SCIERC_DYGIE.read_text().splitlines()]
    keys = ("doc_key", "sentences", "ner", "relations")
    assert dygie.spert_to_dygie(str(tmp_path / "s.json")) == [{k: d[k] for k in keys} for d in original]

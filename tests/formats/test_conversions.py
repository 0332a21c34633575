import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from spert_mt_plugin.dataset_readers import DataError, SpertJsonReader
from spert_mt_plugin.formats import conversions, dygie
from spert_mt_plugin.formats.brat import read_brat_document
from tests.conftest import FIXTURES, PROJECT_ROOT

BRAT = FIXTURES / "brat"
CONF = str(BRAT / "annotation.conf")
SCIERC_DYGIE = Path("../shared/data/scierc_dygie/train.json")


def brat_annotations(folder):
    """Per document: entities as (type, text) and relations as (type, head text, tail text)."""
    result = {}
    for txt in sorted(Path(folder).glob("*.txt")):
        document = read_brat_document(txt)
        text = lambda e: " ".join(document.text[e.start : e.end].split())  # noqa: E731
        entities = Counter((e.type, text(e)) for e in document.entities.values())
        relations = Counter(
            (r.type, text(document.entities[r.head]), text(document.entities[r.tail]))
            for r in document.relations
            if r.head in document.entities and r.tail in document.entities
        )
        result[txt.stem] = (entities, relations)
    return result


def test_brat_to_json_to_brat_keeps_every_representable_annotation(tmp_path):
    documents, types, skipped = conversions.brat_to_spert(str(BRAT), CONF)
    conversions.write_json(documents, str(tmp_path / "data.json"))
    assert conversions.spert_to_brat(str(tmp_path / "data.json"), str(tmp_path / "back")) == 2
    original, back = brat_annotations(BRAT), brat_annotations(tmp_path / "back")
    # doc1: every entity; every relation but R4 (across sentences), plus the Married_To equivalence
    entities, relations = original["doc1"]
    assert back["doc1"][0] == entities
    across_sentences = Counter({("Works_For", "Ada Lovelace", "Acme"): 1})
    assert back["doc1"][1] == relations - across_sentences + Counter({("Married_To", "Bob", "Carol"): 1})
    # doc2: all but the discontinuous entity and the relation to it; "Yahoo! Inc" comes back tokenised
    entities, relations = original["doc2"]
    changed = Counter({("Organization", "University Oslo"): 1, ("Organization", "Yahoo! Inc"): 1})
    assert back["doc2"][0] == entities - changed + Counter({("Organization", "Yahoo ! Inc"): 1})
    assert len(back["doc2"][1]) == 4
    # a second round trip changes nothing
    again, _, _ = conversions.brat_to_spert(str(tmp_path / "back"), CONF)
    assert again == documents
    kinds = sorted(item.kind for item in skipped)
    assert kinds == ["attribute", "discontinuous entity", "event", "note", "relation", "relation"]


def test_converted_json_is_reader_input(tmp_path):
    documents, _, _ = conversions.brat_to_spert(str(BRAT), CONF)
    conversions.write_json(documents, str(tmp_path / "data.json"))
    instances = list(SpertJsonReader({}, types_file=CONF).read(str(tmp_path / "data.json")))
    assert [i["metadata"].metadata["doc_id"] for i in instances] == ["doc1#0", "doc1#1", "doc1#2", "doc2#0", "doc2#1"]


def test_predictions_become_brat_with_the_original_text_and_scores_as_notes(tmp_path):
    text = "Bob met  Carol in Oslo.\nEve left."
    prediction = {
        "document": text,
        "orig_id": "news 7",
        "sentences": [
            {
                "tokens": ["Bob", "met", "Carol", "in", "Oslo", "."],
                "entities": [
                    {"type": "Person", "start": 0, "end": 1, "char_start": 0, "char_end": 3, "score": 3.25},
                    {"type": "Location", "start": 4, "end": 5, "char_start": 18, "char_end": 22, "score": 1.5},
                ],
                "relations": [{"type": "Located_In", "head": 0, "tail": 1, "score": 0.9}],
            },
            {
                "tokens": ["Eve", "left", "."],
                "entities": [{"type": "Person", "start": 0, "end": 1, "char_start": 24, "char_end": 27, "score": 2.0}],
                "relations": [],
            },
        ],
    }
    (tmp_path / "pred.jsonl").write_text(json.dumps(prediction) + "\n")
    conversions.spert_to_brat(str(tmp_path / "pred.jsonl"), str(tmp_path / "brat"))
    assert (tmp_path / "brat" / "news_7.txt").read_text() == text
    ann = (tmp_path / "brat" / "news_7.ann").read_text().splitlines()
    assert ann[:4] == [
        "T1\tPerson 0 3\tBob",
        "T2\tLocation 18 22\tOslo",
        "T3\tPerson 24 27\tEve",
        "R1\tLocated_In Arg1:T1 Arg2:T2",
    ]
    assert "#4\tAnnotatorNotes R1\tscore 0.9000" in ann
    # corrected in brat, it is training data again
    documents, _, skipped = conversions.brat_to_spert(str(tmp_path / "brat"), CONF)
    assert documents[0]["relations"] == [{"type": "Located_In", "head": 0, "tail": 1}]
    assert [s.kind for s in skipped] == ["note"] * 4


def test_dygie_to_spert_to_dygie_is_the_identity(tmp_path):
    source = FIXTURES / "data" / "sentences.dygie.jsonl"
    documents = conversions.dygie_to_spert(str(source))
    assert documents[0]["orig_id"] == "docA#0"
    conversions.write_json(documents, str(tmp_path / "d.json"))
    back = conversions.spert_to_dygie(str(tmp_path / "d.json"))
    assert back == [json.loads(line) for line in source.read_text().splitlines()]


def test_unannotated_spert_stays_unannotated_through_dygie(tmp_path):
    sentences = [
        {"tokens": ["Bob", "(", "CEO", ")", "left", "."], "orig_id": "news#0"},
        {"tokens": ["Eve", "stayed", "."], "orig_id": "news#1"},
        {"tokens": ["Alone", "."]},
    ]
    (tmp_path / "text.json").write_text(json.dumps(sentences))
    documents = conversions.spert_to_dygie(str(tmp_path / "text.json"))
    assert documents == [
        {"doc_key": "news", "sentences": [["Bob", "-LRB-", "CEO", "-RRB-", "left", "."], ["Eve", "stayed", "."]]},
        {"doc_key": "doc2", "sentences": [["Alone", "."]]},
    ]
    conversions.write_json(documents, str(tmp_path / "text.jsonl"), lines=True)
    read_back = list(dygie.read_sentences(str(tmp_path / "text.jsonl")))
    assert [(s.tokens, s.entities, s.relations, s.doc_id) for _, s in read_back] == [
        (["Bob", "(", "CEO", ")", "left", "."], None, None, "news#0"),
        (["Eve", "stayed", "."], None, None, "news#1"),
        (["Alone", "."], None, None, "doc2#0"),
    ]
    assert conversions.dygie_to_spert(str(tmp_path / "text.jsonl")) == [
        {"tokens": ["Bob", "(", "CEO", ")", "left", "."], "orig_id": "news#0"},
        {"tokens": ["Eve", "stayed", "."], "orig_id": "news#1"},
        {"tokens": ["Alone", "."], "orig_id": "doc2#0"},
    ]


def test_annotated_sentence_without_entities_stays_annotated_through_dygie(tmp_path):
    sentences = [{"tokens": ["Nothing", "here", "."], "entities": [], "relations": [], "orig_id": "empty#0"}]
    (tmp_path / "gold.json").write_text(json.dumps(sentences))
    documents = conversions.spert_to_dygie(str(tmp_path / "gold.json"))
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
        conversions.spert_to_dygie(str(path))
    assert str(error.value) == (
        f"{path}: DyGIE document 'news' mixes annotated and unannotated sentences ({path}, document 0 "
        f"(orig_id news#0) has 'entities' and 'relations', {path}, document 1 (orig_id news#1) has "
        "neither); DyGIE marks a whole document annotated or not, so annotate all its sentences or none"
    )


@pytest.mark.skipif(not SCIERC_DYGIE.exists(), reason="needs ../shared/data")
def test_scierc_dygie_round_trip(tmp_path):
    documents = conversions.dygie_to_spert(str(SCIERC_DYGIE))
    assert len(documents) == 1861
    conversions.write_json(documents, str(tmp_path / "s.json"))
    original = [json.loads(line) for line in SCIERC_DYGIE.read_text().splitlines()]
    keys = ("doc_key", "sentences", "ner", "relations")
    assert conversions.spert_to_dygie(str(tmp_path / "s.json")) == [{k: d[k] for k in keys} for d in original]


def test_bad_spert_input_names_the_document(tmp_path):
    bad = [{"tokens": ["a"], "entities": [{"type": "X", "start": 0, "end": 3}], "relations": []}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"bad.json, document 0, entity 0: spans \[0, 3\) outside the 1 tokens"):
        conversions.spert_to_brat(str(tmp_path / "bad.json"), str(tmp_path / "out"))


def test_convert_command(tmp_path):
    command = [
        sys.executable,
        "-m",
        "allennlp",
        "spert-convert",
        "brat-to-spert",
        str(BRAT),
        str(tmp_path / "data.json"),
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert "5 sentences, 15 entities, 8 relations" in result.stdout
    assert "not representable: 2 relation" in result.stdout
    types = json.loads((tmp_path / "data_types.json").read_text())
    assert list(types["entities"]) == ["Person", "Organization", "Location"]
    assert types["relations"]["Married_To"]["symmetric"]
    assert len((tmp_path / "data.json.report.jsonl").read_text().splitlines()) == 6

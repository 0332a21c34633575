import json

import pytest

from spert_mt_plugin.dataset_readers import DataError, DygieJsonlReader
from tests.conftest import FIXTURES
from tests.dataset_readers.readers_common import SENTENCES, make_reader


def test_dygie_reader_gives_the_same_sentences_as_spert_json():
    spert = [i["metadata"].metadata for i in make_reader().read(SENTENCES)]
    dygie_file = str(FIXTURES / "data" / "sentences.dygie.jsonl")
    dygie = [i["metadata"].metadata for i in make_reader(DygieJsonlReader).read(dygie_file)]
    assert len(spert) == len(dygie) == 6
    for a, b in zip(spert, dygie):
        assert a["tokens"] == b["tokens"]  # -LRB- / -RRB- restored to ( )
        assert a["entities"] == b["entities"]
        assert a["relations"] == b["relations"]
    assert dygie[4]["tokens"][1] == "(" and dygie[4]["doc_id"] == "docB#1"


def test_bad_dygie_relation_names_the_sentence(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(
            {
                "doc_key": "d1",
                "sentences": [["a", "b"], ["c", "d"]],
                "ner": [[[0, 0, "Person"]], [[2, 3, "Person"]]],
                "relations": [[], [[2, 3, 0, 0, "WORKS_FOR"]]],
            }
        )
    )
    with pytest.raises(DataError, match=r"doc_key d1\), sentence 1: relation 0 has tail span \[0, 0\]"):
        list(make_reader(DygieJsonlReader).read(str(path)))


def test_unannotated_dygie_documents(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"doc_key": "d1", "sentences": [["a", "b"], ["c"]]}) + "\n")
    unannotated = r"raw.jsonl, line 1 \(doc_key d1\), sentence 0: the document has no annotation"
    with pytest.raises(DataError, match=unannotated):
        list(make_reader(DygieJsonlReader).read(str(path)))
    instances = list(make_reader(DygieJsonlReader, require_annotation=False).read(str(path)))
    assert len(instances) == 2 and all("span_labels" not in i.fields for i in instances)
    path.write_text(json.dumps({"doc_key": "d1", "sentences": [["a"]], "ner": [[]]}) + "\n")
    with pytest.raises(DataError, match="has 'ner' but no 'relations'"):
        list(make_reader(DygieJsonlReader).read(str(path)))

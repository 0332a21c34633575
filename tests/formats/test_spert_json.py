import json

import pytest

from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.spert_json import is_annotated, iter_json_documents, read_sentences, require


def test_json_documents_of_an_array_and_of_json_lines_name_their_place(tmp_path):
    documents = [{"tokens": ["a"]}, {"tokens": ["b"]}]
    (tmp_path / "array.json").write_text(json.dumps(documents))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(d) for d in documents) + "\n\n")
    array, lines = str(tmp_path / "array.json"), str(tmp_path / "lines.jsonl")
    assert list(iter_json_documents(array)) == [
        (f"{array}, document 0", documents[0]),
        (f"{array}, document 1", documents[1]),
    ]
    assert list(iter_json_documents(lines)) == [(f"{lines}, line 1", documents[0]), (f"{lines}, line 2", documents[1])]


def test_require_and_is_annotated_name_the_location():
    assert require({"tokens": ["a"]}, "tokens", list, "here") == ["a"]
    with pytest.raises(DataError, match="^here: 'tokens' must be a list, got str$"):
        require({"tokens": "a"}, "tokens", list, "here")
    assert is_annotated({"ner": [], "relations": []}, ("ner", "relations"), "here")
    assert not is_annotated({}, ("ner", "relations"), "here")
    with pytest.raises(DataError, match="^here: has 'relations' but no 'ner'"):
        is_annotated({"relations": []}, ("ner", "relations"), "here")


def test_read_sentences_gives_located_sentences_annotated_or_not(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(
        json.dumps(
            [
                {
                    "tokens": ["Bob", "left"],
                    "orig_id": 7,
                    "entities": [{"type": "Person", "start": 0, "end": 1}],
                    "relations": [],
                },
                {"tokens": ["Eve", "left"]},
            ]
        )
    )
    assert list(read_sentences(str(path))) == [
        (f"{path}, document 0 (orig_id 7)", Sentence(["Bob", "left"], [(0, 1, "Person")], [], "7")),
        (f"{path}, document 1", Sentence(["Eve", "left"], None, None, None)),
    ]

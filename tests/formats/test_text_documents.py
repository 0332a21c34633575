"""SpERT JSON as texts with character offsets; the exports built on them are tested with their formats
(tests/formats/test_brat.py, test_doccano.py, test_label_studio.py)."""

import json

import pytest

from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.text_documents import TextDocument, text_documents

PREDICTED_TEXT = "Bob met  Carol in Oslo.\nEve left."


def write_document_prediction(path, bob, oslo, located_in, eve):
    """The predictor's document output for `PREDICTED_TEXT`, with these scores, as JSON Lines at `path`."""
    prediction = {
        "document": PREDICTED_TEXT,
        "orig_id": "news 7",
        "sentences": [
            {
                "tokens": ["Bob", "met", "Carol", "in", "Oslo", "."],
                "entities": [
                    {"type": "Person", "start": 0, "end": 1, "char_start": 0, "char_end": 3, "score": bob},
                    {"type": "Location", "start": 4, "end": 5, "char_start": 18, "char_end": 22, "score": oslo},
                ],
                "relations": [{"type": "Located_In", "head": 0, "tail": 1, "score": located_in}],
            },
            {
                "tokens": ["Eve", "left", "."],
                "entities": [{"type": "Person", "start": 0, "end": 1, "char_start": 24, "char_end": 27, "score": eve}],
                "relations": [],
            },
        ],
    }
    path.write_text(json.dumps(prediction) + "\n")
    return path


def test_a_document_prediction_keeps_its_text_and_offsets(tmp_path):
    path = write_document_prediction(tmp_path / "pred.jsonl", 3.25, 1.5, 0.9, 2.0)
    assert text_documents(str(path)) == [
        TextDocument(
            "news 7",
            PREDICTED_TEXT,
            [(0, 3, "Person", 3.25), (18, 22, "Location", 1.5), (24, 27, "Person", 2.0)],
            [(0, 1, "Located_In", 0.9)],
            from_tokens=False,
            predicted=True,
        )
    ]


def test_sentences_join_into_their_document_a_line_each(tmp_path):
    sentences = [
        {"tokens": ["Bob", "left", "."], "entities": [{"type": "Person", "start": 0, "end": 1}], "orig_id": "news#0"},
        {
            "tokens": ["Eve", "met", "Bob"],
            "entities": [{"type": "Person", "start": 0, "end": 1}, {"type": "Person", "start": 2, "end": 3}],
            "relations": [{"type": "Knows", "head": 0, "tail": 1}],
            "orig_id": "news#1",
        },
        {"tokens": ["Alone"]},
    ]
    (tmp_path / "gold.json").write_text(json.dumps(sentences))
    news, alone = text_documents(str(tmp_path / "gold.json"))
    # "Bob left ." then "Eve met Bob" from character 11; relation indices count from the document's first entity
    assert news == TextDocument(
        "news",
        "Bob left .\nEve met Bob",
        [(0, 3, "Person", None), (11, 14, "Person", None), (19, 22, "Person", None)],
        [(1, 2, "Knows", None)],
        from_tokens=True,
        predicted=False,
    )
    # a document without a name is named by its index in the file
    assert alone == TextDocument("doc2", "Alone", [], [], from_tokens=True, predicted=False)


def test_bad_spert_input_names_the_document(tmp_path):
    bad = [{"tokens": ["a"], "entities": [{"type": "X", "start": 0, "end": 3}], "relations": []}]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"bad.json, document 0, entity 0: spans \[0, 3\) outside the 1 tokens"):
        text_documents(str(tmp_path / "bad.json"))

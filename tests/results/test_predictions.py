import gzip
import json

import pytest

from spert_mt_plugin.results.predictions import has_gold_predictions, read_predictions, with_gold
from spert_mt_plugin.results.runs import ResultsError

SCORABLE = {"tokens": ["a"], "entities": [], "relations": [], "gold": {"entities": [], "relations": []}}


def test_with_gold_adds_the_annotation_and_marks_symmetric_relations():
    predicted = {
        "tokens": ["Bob", "wed", "Eve"],
        "entities": [{"start": 0, "end": 1, "type": "Person"}, {"start": 2, "end": 3, "type": "Person"}],
        "relations": [{"head": 0, "tail": 1, "type": "Married_To"}, {"head": 0, "tail": 1, "type": "Knows"}],
    }
    metadata = {"entities": [(0, 1, "Person"), (2, 3, "Person")], "relations": [(1, 0, "Married_To")]}
    line = with_gold(predicted, metadata, {"Married_To"})
    assert line["relations"] == [
        {"head": 0, "tail": 1, "type": "Married_To", "symmetric": True},
        {"head": 0, "tail": 1, "type": "Knows"},
    ]
    assert line["gold"] == {
        "entities": [{"start": 0, "end": 1, "type": "Person"}, {"start": 2, "end": 3, "type": "Person"}],
        "relations": [{"head": 1, "tail": 0, "type": "Married_To", "symmetric": True}],
    }
    assert line["tokens"] == ["Bob", "wed", "Eve"]


def test_read_predictions_names_the_line_that_cannot_be_scored(tmp_path):
    packed = tmp_path / "test_predictions.jsonl.gz"
    without_gold = {key: value for key, value in SCORABLE.items() if key != "gold"}
    packed.write_bytes(gzip.compress(f"{json.dumps(SCORABLE)}\n{json.dumps(without_gold)}\n".encode()))
    with pytest.raises(ResultsError, match=r"jsonl.gz, line 2: no gold \(written by write_test_predictions\?\)$"):
        read_predictions(packed)
    plain = tmp_path / "predictions.jsonl"
    plain.write_text(f"{json.dumps(SCORABLE)}\n{{\n")
    with pytest.raises(ResultsError, match=r"predictions.jsonl, line 2: not JSON \(Expecting property name"):
        read_predictions(plain)
    plain.write_text(f"{json.dumps(SCORABLE)}\n")
    assert read_predictions(plain) == [SCORABLE]


def test_has_gold_predictions_judges_by_the_first_line(tmp_path):
    path = tmp_path / "test_predictions.jsonl.gz"
    assert not has_gold_predictions(path)
    path.write_bytes(gzip.compress(f"{json.dumps(SCORABLE)}\n".encode()))
    assert has_gold_predictions(path)
    # As `allennlp predict` writes them: predictions to write again, with the gold annotation.
    path.write_bytes(gzip.compress(b'{"tokens": ["a"], "entities": [], "relations": []}\n'))
    assert not has_gold_predictions(path)
    # A file cut short while it was written.
    path.write_bytes(gzip.compress(f"{json.dumps(SCORABLE)}\n".encode())[:10])
    assert not has_gold_predictions(path)

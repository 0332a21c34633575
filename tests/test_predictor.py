import json
import subprocess
import sys

import pytest
from allennlp.predictors import Predictor

from spert_mt_plugin.dataset_readers import SpertJsonReader
from spert_mt_plugin.predictors import InputError
from tests.conftest import FIXTURES, PROJECT_ROOT

SENTENCES = FIXTURES / "data" / "sentences.json"


@pytest.fixture(scope="module")
def predictor(trained_archive):
    return Predictor.from_path(trained_archive)


def test_default_predictor_is_registered_and_predicts_tokens(predictor):
    result = predictor.predict_json({"tokens": ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."]})
    assert result["tokens"][0] == "Ada"
    spans = {(e["start"], e["end"], e["type"]) for e in result["entities"]}
    assert (0, 2, "Person") in spans and (4, 6, "Organization") in spans
    person = next(e for e in result["entities"] if e["start"] == 0)
    assert person["text"] == "Ada Lovelace" and isinstance(person["score"], float)
    relations = {(result["entities"][r["head"]]["text"], result["entities"][r["tail"]]["text"], r["type"]) for r in result["relations"]}
    assert ("Ada Lovelace", "Acme Corp", "Works_For") in relations


def test_raw_sentence_gets_character_offsets(predictor):
    text = "Ada Lovelace  works for Acme Corp in Paris."
    result = predictor.predict_json({"sentence": text})
    assert result["tokens"] == ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."]
    for entity in result["entities"]:
        assert text[entity["char_start"] : entity["char_end"]].split() == entity["text"].split()
    corp = next(e for e in result["entities"] if e["text"] == "Acme Corp")
    assert (corp["char_start"], corp["char_end"]) == (24, 33)


def test_document_is_split_into_sentences(predictor):
    text = "Bob is married to Carol.\nEve left Acme Corp for Oslo."
    result = predictor.predict_json({"document": text, "orig_id": "doc-1"})
    assert result["orig_id"] == "doc-1" and result["document"] == text
    assert [s["tokens"][0] for s in result["sentences"]] == ["Bob", "Eve"]
    oslo = next(e for e in result["sentences"][1]["entities"] if e["text"] == "Oslo")
    assert text[oslo["char_start"] : oslo["char_end"]] == "Oslo"


def test_batch_prediction_matches_single_prediction(predictor):
    inputs = [{"tokens": ["Bob", "is", "married", "to", "Carol", "."]}, {"sentence": "Dan lives in Paris."}]
    batch = predictor.predict_batch_json(inputs)
    single = [predictor.predict_json(i) for i in inputs]
    for a, b in zip(batch, single):
        assert [(e["start"], e["end"], e["type"]) for e in a["entities"]] == [(e["start"], e["end"], e["type"]) for e in b["entities"]]
        assert [(r["head"], r["tail"], r["type"]) for r in a["relations"]] == [(r["head"], r["tail"], r["type"]) for r in b["relations"]]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"sentence": ""}, "the text is empty"),
        ({"sentence": "   \n "}, "the text is empty"),
        ({"text": "Bob"}, "give exactly one of 'tokens'"),
        ({"tokens": ["Bob"], "sentence": "Bob"}, "give exactly one of"),
        ({"tokens": []}, "non-empty list of strings"),
        ({"tokens": ["Bob", 3]}, "token 1 must be a non-empty string"),
        ({"tokens": ["Bob", ""]}, "token 1 must be a non-empty string"),
        ({"sentence": 42}, "'sentence' must be a string"),
        (["Bob"], "must be a JSON object"),
    ],
)
def test_bad_input_gets_a_clear_error(predictor, bad, message):
    with pytest.raises(InputError, match=message):
        predictor.predict_json(bad)


def test_odd_unicode_and_long_documents_work(predictor):
    odd = predictor.predict_json({"tokens": ["Ada", "\u200b", "works", "🙂", "für", "Ａｃｍｅ", "\x07", "."]})
    assert len(odd["tokens"]) == 8
    # 5,000 words: 500 sentences of 10 words, each of them predicted.
    long_document = " ".join(["Ada Lovelace works for Acme Corp in Paris and Oslo."] * 500)
    result = predictor.predict_json({"document": long_document})
    assert len(result["sentences"]) == 500
    assert sum(len(s["tokens"]) for s in result["sentences"]) == 5500  # 10 words + "." each


def test_allennlp_predict_cli_with_dataset_reader_output_is_reader_input(trained_archive, tmp_path):
    output = tmp_path / "predictions.jsonl"
    command = [
        sys.executable, "-m", "allennlp", "predict", trained_archive, str(SENTENCES),
        "--use-dataset-reader", "--batch-size", "4", "--output-file", str(output), "--silent",
    ]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True)
    lines = output.read_text().splitlines()
    assert len(lines) == 6
    # The predictions are SpERT JSON (JSON Lines): the reader reads them back.
    reread = list(SpertJsonReader({}).read(str(output)))
    assert len(reread) == 6
    assert reread[0]["metadata"].metadata["doc_id"] == "s0"


def test_allennlp_predict_cli_on_raw_text_and_bad_lines(trained_archive, tmp_path):
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text(json.dumps({"sentence": "Bob is married to Carol."}) + "\n" + json.dumps({"tokens": ["Dan", "."]}) + "\n")
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "allennlp", "predict", trained_archive, str(inputs), "--output-file", str(output), "--silent"]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True)
    results = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["tokens"][0] for r in results] == ["Bob", "Dan"]

    inputs.write_text(json.dumps({"sentence": "Bob."}) + "\n" + "{not json\n")
    failed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert failed.returncode != 0
    assert "input line 2: not valid JSON" in failed.stderr

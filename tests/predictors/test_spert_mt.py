import json
import subprocess
import sys

import pytest
from allennlp.predictors import Predictor

from spert_mt_plugin.dataset_readers import SpertJsonReader
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.predictors import InputError, prediction_input, spert_mt
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
    texts = [e["text"] for e in result["entities"]]
    relations = {(texts[r["head"]], texts[r["tail"]], r["type"]) for r in result["relations"]}
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

    def entities(result):
        return [(e["start"], e["end"], e["type"]) for e in result["entities"]]

    def relations(result):
        return [(r["head"], r["tail"], r["type"]) for r in result["relations"]]

    for a, b in zip(batch, single):
        assert entities(a) == entities(b)
        assert relations(a) == relations(b)


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
        sys.executable,
        "-m",
        "allennlp",
        "predict",
        trained_archive,
        str(SENTENCES),
        "--use-dataset-reader",
        "--batch-size",
        "4",
        "--output-file",
        str(output),
        "--silent",
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
    lines = [{"sentence": "Bob is married to Carol."}, {"tokens": ["Dan", "."]}]
    inputs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "allennlp", "predict", trained_archive, str(inputs)]
    command += ["--output-file", str(output), "--silent"]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True)
    results = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["tokens"][0] for r in results] == ["Bob", "Dan"]

    inputs.write_text(json.dumps({"sentence": "Bob."}) + "\n" + "{not json\n")
    failed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert failed.returncode != 0
    assert "input line 2: not valid JSON" in failed.stderr


def test_long_documents_are_predicted_in_bounded_batches_with_the_same_results(trained_archive):
    bounded = Predictor.from_path(trained_archive, batch_size=4, max_batch_words=30)
    unbounded = Predictor.from_path(trained_archive, batch_size=1000, max_batch_words=10**6)
    sizes = []
    forward = bounded.model.forward_on_instances

    def recording(instances):
        sizes.append((len(instances), max(len(i["metadata"].metadata["tokens"]) for i in instances)))
        return forward(instances)

    bounded.model.forward_on_instances = recording
    sentences = [
        "Bob is married to Carol.",
        "Ada Lovelace works for Acme Corp in Paris and Oslo since May.",
        "Eve left.",
    ]
    document = " ".join(sentences[i % 3] for i in range(20))
    a, b = bounded.predict_json({"document": document}), unbounded.predict_json({"document": document})

    def without_scores(result):
        return [
            [{k: v for k, v in item.items() if k != "score"} for item in s["entities"] + s["relations"]]
            for s in result["sentences"]
        ]

    def scores(result):
        return [item["score"] for s in result["sentences"] for item in s["entities"] + s["relations"]]

    # order, offsets and predictions do not depend on batching (scores up to float rounding)
    assert without_scores(a) == without_scores(b)
    assert [s["tokens"] for s in a["sentences"]] == [s["tokens"] for s in b["sentences"]]
    assert scores(a) == pytest.approx(scores(b), abs=1e-4)
    assert sum(n for n, _ in sizes) == 20
    assert all(n <= 4 and n * longest <= 30 for n, longest in sizes)
    # sorted by length: the 3-word sentences are batched together, not padded to 14 words
    assert (4, 3) in sizes


def test_size_limits_name_the_limit(trained_archive):
    from spert_mt_plugin.predictors import InputTooLarge

    limited = Predictor.from_path(trained_archive, max_words=20, max_sentence_words=8)
    with pytest.raises(InputTooLarge, match="sentence has 9 words, over the limit of 8 words per sentence"):
        limited.predict_json({"tokens": ["a"] * 9})
    with pytest.raises(InputTooLarge, match="sentence 1 has 9 words"):
        limited.predict_json({"document": "Bob left. " + "a " * 8 + "."})
    with pytest.raises(InputTooLarge, match="24 words, over the limit of 20 words per request"):
        limited.predict_batch_json([{"tokens": ["Bob", "left", "."]}] * 8)
    assert len(limited.predict_batch_json([{"tokens": ["Bob", "left", "."]}] * 6)) == 6


def test_text_longer_than_spacy_max_length_keeps_its_offsets(trained_archive, monkeypatch):
    def short_pipeline(language):
        nlp = blank_pipeline(language)
        nlp.max_length = 40  # stands for spaCy's 10^6 characters
        return nlp

    monkeypatch.setattr(prediction_input, "blank_pipeline", short_pipeline)
    predictor = Predictor.from_path(trained_archive)
    text = "Bob is married to Carol. Eve works for Acme Corp in Oslo. Dan left Paris."
    result = predictor.predict_json({"document": text})
    assert [s["tokens"][0] for s in result["sentences"]] == ["Bob", "Eve", "Dan"]
    for sentence in result["sentences"]:
        for entity in sentence["entities"]:
            assert text[entity["char_start"] : entity["char_end"]].split() == entity["text"].split()


def test_predictor_reads_unannotated_files_with_the_dataset_reader(trained_archive, tmp_path):
    path = tmp_path / "raw.json"
    path.write_text(json.dumps([{"tokens": ["Bob", "is", "married", "to", "Carol", "."], "orig_id": "r1"}]))
    predictor = Predictor.from_path(trained_archive)
    instances = list(predictor._dataset_reader.read(str(path)))
    result = predictor.predict_instance(instances[0])
    assert result["orig_id"] == "r1" and result["tokens"][0] == "Bob"


def test_a_reader_of_another_kind_is_a_configuration_error(predictor):
    from allennlp.common.checks import ConfigurationError
    from allennlp.data.dataset_readers import SequenceTaggingDatasetReader

    with pytest.raises(ConfigurationError) as error:
        spert_mt.SpertMTPredictor(predictor.model, SequenceTaggingDatasetReader())
    assert str(error.value) == (
        "SpertMTPredictor needs a spert-mt dataset reader (spert_json, dygie_jsonl, brat, doccano or label_studio), "
        "got SequenceTaggingDatasetReader"
    )

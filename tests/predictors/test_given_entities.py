"""Relations between the user's own entities (`"entities"` in the prediction input)."""

import json
import re
import subprocess
import sys

import pytest
from allennlp.predictors import Predictor

from spert_mt_plugin.predictors import InputError
from tests.conftest import FIXTURES, PROJECT_ROOT


@pytest.fixture(scope="module")
def predictor(trained_archive):
    return Predictor.from_path(trained_archive)


def fixture_sentences():
    return json.loads((FIXTURES / "data" / "sentences.json").read_text())


def named_relations(result):
    entities = result["entities"]
    key = lambda e: (e["start"], e["end"], e["type"])  # noqa: E731
    return sorted((key(entities[r["head"]]), key(entities[r["tail"]]), r["type"]) for r in result["relations"])


def test_the_models_own_entities_given_back_give_its_relations(predictor):
    for sentence in fixture_sentences():
        predicted = predictor.predict_json({"tokens": sentence["tokens"]})
        given = [{"start": e["start"], "end": e["end"], "type": e["type"]} for e in predicted["entities"]]
        result = predictor.predict_json({"tokens": sentence["tokens"], "entities": given})
        assert [(e["start"], e["end"], e["type"]) for e in result["entities"]] == [
            (e["start"], e["end"], e["type"]) for e in predicted["entities"]
        ]
        # Computed for these spans alone rather than among all candidates: the same up to rounding.
        assert [e["score"] for e in result["entities"]] == pytest.approx(
            [e["score"] for e in predicted["entities"]], abs=1e-4
        )
        assert named_relations(result) == named_relations(predicted)


def test_gold_entities_are_kept_exactly_and_related(predictor):
    related = 0
    for sentence in fixture_sentences():
        gold = [{"start": e["start"], "end": e["end"], "type": e["type"]} for e in sentence["entities"]]
        result = predictor.predict_json({"tokens": sentence["tokens"], "entities": gold})
        assert [(e["start"], e["end"], e["type"]) for e in result["entities"]] == [
            (e["start"], e["end"], e["type"]) for e in gold
        ]
        assert all(0 <= r["head"] < len(gold) and 0 <= r["tail"] < len(gold) for r in result["relations"])
        gold_relations = {(r["head"], r["tail"], r["type"]) for r in sentence["relations"]}
        related += len(gold_relations & {(r["head"], r["tail"], r["type"]) for r in result["relations"]})
    # The fixture model fits its training sentences: most gold relations come back between gold entities.
    assert related >= 5


def test_untyped_entities_take_the_models_best_type_and_score(predictor):
    words = ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."]
    predicted = predictor.predict_json({"tokens": words})
    ada = next(e for e in predicted["entities"] if (e["start"], e["end"]) == (0, 2))
    result = predictor.predict_json({"tokens": words, "entities": [{"start": 0, "end": 2}, {"start": 4, "end": 6}]})
    assert result["entities"][0]["type"] == ada["type"] == "Person"
    assert result["entities"][0]["score"] == pytest.approx(ada["score"], abs=1e-5)
    # An empty list is "no entities": nothing to relate.
    assert predictor.predict_json({"tokens": words, "entities": []}) == {
        "tokens": words,
        "entities": [],
        "relations": [],
    }


def test_character_entities_of_raw_text_and_documents(predictor):
    text = "Ada Lovelace works for Acme Corp in Paris. Bob is married to Carol."
    entities = [
        {"char_start": 0, "char_end": 12, "type": "Person"},
        {"char_start": 23, "char_end": 32},
        {"char_start": 43, "char_end": 46, "type": "Person"},
        {"char_start": 61, "char_end": 66, "type": "Person"},
    ]
    result = predictor.predict_json({"document": text, "entities": entities})
    first, second = result["sentences"]
    assert [(e["char_start"], e["char_end"]) for e in first["entities"]] == [(0, 12), (23, 32)]
    assert [e["text"] for e in second["entities"]] == ["Bob", "Carol"]
    words_result = predictor.predict_json(
        {"tokens": first["tokens"], "entities": [{"start": 0, "end": 2, "type": "Person"}, {"start": 4, "end": 6}]}
    )
    assert named_relations(first) == named_relations(words_result)


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"tokens": ["Ada", "works"], "entities": [{"start": 1, "end": 3}]}, "words 1..3 .* not a span of the 2 words"),
        ({"tokens": ["Ada", "works"], "entities": [{"start": 0, "end": 1, "type": "Pet"}]}, "unknown type 'Pet'"),
        ({"tokens": ["Ada", "works"], "entities": [{"start": True, "end": 1}]}, "'start' must be an integer"),
        ({"tokens": ["Ada", "works"], "entities": {"start": 0}}, "'entities' must be a list"),
        ({"sentence": "Ada Lovelace works.", "entities": [{"char_start": 0, "char_end": 6}]}, "word boundaries"),
        ({"document": "Ada left. Bob came.", "entities": [{"char_start": 4, "char_end": 13}]}, "cross a sentence"),
    ],
)
def test_bad_entities_get_a_one_line_error_naming_the_entity(predictor, request_, message):
    with pytest.raises(InputError, match=r"^input: entities\[0\]|^input: 'entities'") as error:
        predictor.predict_json(request_)
    assert "\n" not in str(error.value)
    assert re.search(message, str(error.value))


def test_allennlp_predict_takes_entities_per_line(trained_archive, tmp_path):
    source = tmp_path / "input.jsonl"
    lines = [
        {"tokens": "Bob is married to Carol .".split(), "entities": [{"start": 0, "end": 1}, {"start": 4, "end": 5}]},
        {"tokens": "Bob is married to Carol .".split()},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "allennlp", "predict", trained_archive, str(source), "--output-file", str(output)]
    subprocess.run(command + ["--silent"], cwd=PROJECT_ROOT, check=True, capture_output=True)
    given, free = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(e["start"], e["end"]) for e in given["entities"]] == [(0, 1), (4, 5)]
    assert len(free["entities"]) >= 2


KNOWN = "the model knows Person, Organization, Location"


@pytest.mark.parametrize(
    "entities, message",
    [
        ([(0, 1, "Pet")], f"sentence 1: entities[0] (0, 1, 'Pet'): unknown type 'Pet'; {KNOWN}"),
        (
            [(0, 1, None), (1, 3, "Person")],
            "sentence 1: entities[1] (1, 3, 'Person'): words 1..3 (end exclusive) are not a span of the 2 words",
        ),
        (
            [(1, 1, None)],
            "sentence 1: entities[0] (1, 1, None): words 1..1 (end exclusive) are not a span of the 2 words",
        ),
        ([(0, True, None)], "sentence 1: entities[0] (0, True, None): start and end must be integers"),
        ([(0, 1)], "sentence 1: entities[0] must be (start, end, type or None), got (0, 1)"),
        ("Ada", "sentence 1: the entities must be a list of (start, end, type or None), got str"),
    ],
)
def test_predict_sentences_checks_the_given_entities(predictor, entities, message):
    sentences = [(["Bob", "ran"], None), (["Ada", "works"], "d2")]
    with pytest.raises(InputError) as error:
        predictor.predict_sentences(sentences, [None, entities])
    assert str(error.value) == message


def test_predict_sentences_takes_numpy_indices_as_words(predictor):
    import numpy

    words = ["Bob", "is", "married", "to", "Carol", "."]
    given = [(numpy.int64(0), numpy.int64(1), "Person"), (4, 5, None)]
    (result,) = predictor.predict_sentences([(words, None)], [given])
    json_entities = [{"start": 0, "end": 1, "type": "Person"}, {"start": 4, "end": 5}]
    plain = predictor.predict_json({"tokens": words, "entities": json_entities})
    assert result == plain

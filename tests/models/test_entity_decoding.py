"""Flat or nested entity decoding (`entity_decoding`) and the record of nested training data."""

import shutil
import tarfile

import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.models.archival import load_archive

from tests.conftest import batch_of, model_and_instances


def overlapping(entities):
    spans = [(e["start"], e["end"]) for e in entities]
    return [(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a[0] < b[1] and b[0] < a[1]]


def test_training_records_whether_the_gold_entities_nest():
    model, instances, _ = model_and_instances()
    assert not model.trained_on_nested_entities
    nested = [i for i in instances if overlapping([{"start": s, "end": e} for s, e, _ in i["metadata"]["entities"]])]
    flat = [i for i in instances if i not in nested]
    assert nested and flat  # the fixture has both kinds of sentence
    model.train()
    model(**batch_of(model, flat))
    assert not model.trained_on_nested_entities
    model(**batch_of(model, nested))
    assert model.trained_on_nested_entities
    # Once seen, it stays: later flat batches do not undo it, and the weights carry it.
    model(**batch_of(model, flat))
    assert model.state_dict()["trained_on_nested_entities"]


def predict(archive, sentences, decoding):
    from allennlp.predictors import Predictor

    loaded = load_archive(archive, overrides={"model.entity_decoding": decoding})
    predictor = Predictor.from_archive(loaded, "spert_mt", extra_args={"entity_threshold": -5.0})
    return predictor.predict_batch_json([{"tokens": words} for words in sentences])


SENTENCES = [
    "Later he lived in Palo Alto , California .".split(),
    "Ada Lovelace works for Acme Corp in New York City .".split(),
    "Bob is married to Carol and lives in Oslo .".split(),
]


def test_flat_decoding_keeps_the_best_non_overlapping_entities_and_no_relation_between_them(trained_archive):
    # A low threshold makes many overlapping candidates entities.
    nested = predict(trained_archive, SENTENCES, "nested")
    flat = predict(trained_archive, SENTENCES, "flat")
    assert any(overlapping(result["entities"]) for result in nested)
    for nested_result, flat_result in zip(nested, flat):
        assert not overlapping(flat_result["entities"])
        # Greedy by score over the nested output gives the flat one.
        kept = []
        for entity in sorted(nested_result["entities"], key=lambda e: -e["score"]):
            if not overlapping(kept + [entity]):
                kept.append(entity)
        key = lambda e: (e["start"], e["end"], e["type"])  # noqa: E731
        assert sorted(map(key, kept)) == sorted(map(key, flat_result["entities"]))

        # The relations among the kept entities are the nested run's relations among them.
        def named(result):
            entities = result["entities"]
            return {(key(entities[r["head"]]), key(entities[r["tail"]]), r["type"]) for r in result["relations"]}

        kept_keys = {key(e) for e in kept}
        assert named(flat_result) == {r for r in named(nested_result) if r[0] in kept_keys and r[1] in kept_keys}


def test_auto_decoding_follows_the_training_data_and_old_archives_decode_flat(trained_archive, tmp_path):
    # The fixture data nests, so the fixture model decodes nested under "auto".
    assert load_archive(trained_archive).model.trained_on_nested_entities
    assert predict(trained_archive, SENTENCES, "auto") == predict(trained_archive, SENTENCES, "nested")
    # An archive saved before the buffer existed: its weights lack it, and it loads, decoding flat.
    folder = tmp_path / "old"
    with tarfile.open(trained_archive) as archive:
        archive.extractall(folder)
    weights = torch.load(folder / "weights.th")
    del weights["trained_on_nested_entities"]
    torch.save(weights, folder / "weights.th")
    old = tmp_path / "old.tar.gz"
    with tarfile.open(old, "w:gz") as archive:
        for item in folder.iterdir():
            archive.add(item, arcname=item.name)
    shutil.rmtree(folder)
    assert not load_archive(str(old)).model.trained_on_nested_entities
    # ... and says so, for the tables' kept predictions (evaluated nested, before the option).
    assert not load_archive(str(old)).model.records_nesting
    assert load_archive(trained_archive).model.records_nesting
    assert predict(str(old), SENTENCES, "auto") == predict(str(old), SENTENCES, "flat")


def test_an_unknown_decoding_is_refused():
    with pytest.raises(ConfigurationError, match="entity_decoding must be one of auto, flat, nested"):
        model_and_instances(entity_decoding="overlapping")


def test_the_predictor_service_and_spacy_take_the_decoding_as_an_argument(trained_archive):
    import argparse

    import spacy
    from allennlp.predictors import Predictor

    from spert_mt_plugin.commands.serve import Serve, app_factory

    def predicted(**extra):
        predictor = Predictor.from_archive(
            load_archive(trained_archive), "spert_mt", extra_args={"entity_threshold": -5.0, **extra}
        )
        return predictor.predict_batch_json([{"tokens": words} for words in SENTENCES])

    flat, nested = predict(trained_archive, SENTENCES, "flat"), predict(trained_archive, SENTENCES, "nested")
    assert flat != nested
    assert predicted(entity_decoding="flat") == flat
    # No argument keeps the archive's setting (auto: nested, the fixture data nests).
    assert predicted() == nested
    with pytest.raises(ConfigurationError, match="entity_decoding must be one of"):
        predicted(entity_decoding="greedy")

    parser = argparse.ArgumentParser()
    Serve().add_subparser(parser.add_subparsers())
    for flags, expected in (([], nested[0]), (["--entity-decoding", "flat"], flat[0])):
        flags = ["--entity-threshold=-5", *flags]
        client = app_factory(parser.parse_args(["spert-serve", trained_archive, *flags]))().test_client()
        assert client.post("/predict", json={"tokens": SENTENCES[0]}).get_json() == expected

    nlp = spacy.blank("en")
    config = {"archive": trained_archive, "entity_threshold": -5.0, "entity_decoding": "flat", "set_ents": False}
    nlp.add_pipe("spert_mt", config=config)
    doc = nlp(" ".join(SENTENCES[0]))  # a span group needs its doc alive
    spans = doc.spans["spert_mt"]
    expected = sorted((entity["start"], entity["end"]) for entity in flat[0]["entities"])
    assert sorted((span.start, span.end) for span in spans) == expected

"""`SpertMT.set_thresholds`: changing theta after training changes the decisions, and only them."""

import pytest
import torch

from spert_mt_plugin.results.score_curves import filter_predictions
from tests.conftest import ABLATIONS, batch_of, model_and_instances


def predict(model, tensors):
    model.eval()
    with torch.no_grad():
        output = model(**tensors)
    return output["entities"], output["relations"], output["loss"].item()


@pytest.mark.parametrize(
    "variant, defaults",
    [("full", {"entity": 0.85, "relation": 0.85}), ("spert", {"entity": 0.0, "relation": 0.4})],
)
def test_thresholds_are_the_heads_and_none_leaves_one_as_it_is(variant, defaults):
    model, _, _ = model_and_instances(**ABLATIONS[variant])
    assert model.thresholds == defaults
    model.set_thresholds(relation=0.7)
    assert model.thresholds == {"entity": defaults["entity"], "relation": 0.7}
    model.set_thresholds(entity=1.5)
    assert model.thresholds == {"entity": 1.5, "relation": 0.7}


@pytest.mark.parametrize(
    "variant, low, high", [("full", (-1.0, -1.0), (0.15, 0.1)), ("spert", (0.0, 0.3), (0.27, 0.5))]
)
def test_a_higher_theta_keeps_the_low_predictions_that_reach_it(variant, low, high):
    # The untrained fixture model's margin scores are within +-0.35 and its probabilities about
    # 0.27 (softmax over 3 types and NA) and 0.5 (sigmoid): `high` keeps about half of `low`'s.
    model, instances, _ = model_and_instances(**ABLATIONS[variant])
    tensors = batch_of(model, instances)
    model.set_thresholds(*low)
    low_entities, low_relations, low_loss = predict(model, tensors)
    model.set_thresholds(*high)
    entities, relations, loss = predict(model, tensors)
    assert loss == low_loss  # the loss does not depend on theta
    expected_entities, expected_relations = filter_predictions(low_entities, low_relations, *high)
    # The higher theta drops some predictions of both kinds, and keeps some.
    assert 0 < sum(map(len, entities)) < sum(map(len, low_entities))
    assert 0 < sum(map(len, relations)) < sum(map(len, low_relations))
    assert entities == expected_entities
    for got, want in zip(relations, expected_relations):
        # Symmetric relations come last, in the order their pairs are first seen, which a higher
        # theta can change: compared as sets. A relation's score does not depend on the other
        # entities, up to the order of the sums.
        got, want = (sorted(r, key=lambda r: (r["head"], r["tail"], r["type"])) for r in (got, want))
        assert [(r["head"], r["tail"], r["type"]) for r in got] == [(r["head"], r["tail"], r["type"]) for r in want]
        assert [r["score"] for r in got] == pytest.approx([r["score"] for r in want], abs=1e-6)

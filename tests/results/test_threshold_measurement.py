"""The low bounds and batches of `spert-thresholds`' two predictions; the measurement end to end, on
fixture models: tests/commands/test_thresholds.py."""

import math

import pytest
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.results.threshold_measurement import length_batches, low_bounds

MARGIN_HEADS = {"entity": 0.85, "relation": 0.85}
SPERT_HEADS = {"entity": 0.0, "relation": 0.4}


def test_sentences_of_similar_length_share_a_batch():
    metadata = [{"tokens": ["a"] * length} for length in (5, 1, 3, 2)]
    # by length: sentence 1 (1 word), 3 (2), 2 (3), 0 (5)
    assert length_batches(metadata, 2) == [[1, 3], [2, 0]]
    assert length_batches(metadata, 3) == [[1, 3, 2], [0]]


def test_the_default_low_bounds_follow_the_kind_of_scores():
    assert low_bounds(True, MARGIN_HEADS, None, None) == {"entity": 0.0, "relation": 0.0}
    # SpERT: argmax entities from probability 0, sigmoid relations from 0.05
    assert low_bounds(False, SPERT_HEADS, None, None) == {"entity": 0.0, "relation": 0.05}
    # a current theta below the default is the bound: the curve reaches it
    assert low_bounds(True, {"entity": -0.5, "relation": 0.85}, None, None) == {"entity": -0.5, "relation": 0.0}
    assert low_bounds(False, {"entity": 0.0, "relation": 0.01}, None, None) == {"entity": 0.0, "relation": 0.01}


def test_given_low_bounds_are_taken_when_at_most_the_current_theta():
    assert low_bounds(True, MARGIN_HEADS, -1.0, 0.85) == {"entity": -1.0, "relation": 0.85}
    with pytest.raises(ConfigurationError, match="--min-relation-threshold 2 is above the current relation theta 0.85"):
        low_bounds(True, MARGIN_HEADS, None, 2.0)
    for bad in (math.nan, -math.inf):
        with pytest.raises(ConfigurationError, match="--min-entity-threshold must be a finite number"):
            low_bounds(True, MARGIN_HEADS, bad, None)

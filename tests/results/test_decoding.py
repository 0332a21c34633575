"""Flat decoding applied afterwards to kept predictions, on hand-built sentences."""

import copy

import pytest
import torch

from spert_mt_plugin.modules.span_overlap import best_non_overlapping
from spert_mt_plugin.results.decoding import decode_predictions, flat_prediction
from spert_mt_plugin.results.runs import ResultsError


def entity(start, end, score, label="Loc"):
    return {"type": label, "start": start, "end": end, "score": score, "text": "w"}


GOLD = {
    "entities": [{"start": 0, "end": 3, "type": "Loc"}, {"start": 2, "end": 4, "type": "Loc"}],
    "relations": [{"head": 1, "tail": 0, "type": "Located_In"}],
}


def chain():
    """A [0, 3) .9, B [2, 4) .8, C [3, 5) .7 (exclusive ends): B overlaps A and C, A and C share no word."""
    return {
        "tokens": ["w"] * 6,
        "entities": [entity(0, 3, 0.9), entity(2, 4, 0.8), entity(3, 5, 0.7, "Org")],
        "relations": [
            {"head": 0, "tail": 1, "type": "Located_In", "score": 2.0},
            {"head": 2, "tail": 0, "type": "OrgBased_In", "score": 1.5},
            {"head": 1, "tail": 2, "type": "Located_In", "score": 1.0, "symmetric": True},
        ],
        "orig_id": "7",
        "gold": copy.deepcopy(GOLD),
    }


def test_a_chain_keeps_the_best_and_the_one_that_overlaps_only_the_dropped_one():
    sentence = chain()
    kept = copy.deepcopy(sentence)
    flat = flat_prediction(sentence)
    # A taken (.9); B (.8) overlaps A: dropped; C (.7) overlaps only B, which was not taken: kept.
    assert [(e["start"], e["end"]) for e in flat["entities"]] == [(0, 3), (3, 5)]
    # A-B and B-C lose an argument; C->A is C (index 2 -> 1) -> A (0).
    assert flat["relations"] == [{"head": 1, "tail": 0, "type": "OrgBased_In", "score": 1.5}]
    assert flat["gold"] == GOLD and flat["tokens"] == ["w"] * 6 and flat["orig_id"] == "7"
    assert sentence == kept  # the input is not changed


def test_entities_keep_their_order_and_ties_go_to_the_entity_listed_first():
    sentence = {
        "tokens": ["w"] * 9,
        # listed: X [5, 7) .5, Y [0, 2) .6, Z [1, 3) .6 (ties with Y, listed after it), W [6, 8) .5
        "entities": [entity(5, 7, 0.5), entity(0, 2, 0.6), entity(1, 3, 0.6), entity(6, 8, 0.5)],
        "relations": [
            {"head": 3, "tail": 1, "type": "Located_In", "score": 1.0},
            {"head": 0, "tail": 1, "type": "Located_In", "score": 1.0},
        ],
        "gold": {"entities": [], "relations": []},
    }
    flat = flat_prediction(sentence)
    # Y before Z (tie, listed first); then X before W (tie, listed first); in the listed order: X, Y.
    assert [(e["start"], e["end"]) for e in flat["entities"]] == [(5, 7), (0, 2)]
    assert flat["relations"] == [{"head": 0, "tail": 1, "type": "Located_In", "score": 1.0}]
    # ... as the model's flat decoding chooses them
    spans = torch.tensor([[[e["start"], e["end"] - 1] for e in sentence["entities"]]])
    scores = torch.tensor([[e["score"] for e in sentence["entities"]]])
    assert best_non_overlapping(spans, scores, torch.ones(1, 4, dtype=torch.bool)).tolist() == [
        [True, True, False, False]
    ]


def test_a_sentence_without_overlaps_or_entities_is_unchanged():
    sentence = chain()
    sentence["entities"] = [entity(0, 3, 0.9), entity(3, 5, 0.7)]
    sentence["relations"] = [{"head": 1, "tail": 0, "type": "OrgBased_In", "score": 1.5}]
    assert flat_prediction(sentence) == sentence
    empty = {"tokens": ["w"], "entities": [], "relations": [], "gold": {"entities": [], "relations": []}}
    assert flat_prediction(empty) == empty


def test_nested_decoding_keeps_the_lines_and_flat_decodes_each():
    lines = [chain(), chain()]
    assert decode_predictions(lines, "nested", "kept.jsonl.gz") == lines
    assert [len(line["entities"]) for line in decode_predictions(lines, "flat", "kept.jsonl.gz")] == [2, 2]


def test_a_line_that_cannot_be_decoded_is_named():
    unscored = chain()
    del unscored["entities"][1]["score"]
    with pytest.raises(ResultsError, match=r"kept\.jsonl\.gz, line 2: entity 1 has no score"):
        decode_predictions([chain(), unscored], "flat", "kept.jsonl.gz")
    dangling = chain()
    dangling["relations"][0]["tail"] = 3
    with pytest.raises(ResultsError, match=r"line 1: relation 0 joins entities 0 and 3, but there are 3"):
        decode_predictions([dangling], "flat", "kept.jsonl.gz")
    with pytest.raises(ResultsError, match="unknown decoding 'sideways'"):
        decode_predictions([chain()], "sideways", "kept.jsonl.gz")

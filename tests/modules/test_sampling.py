import torch

from spert_mt_plugin.modules.sampling import (
    entity_candidates,
    ordered_pairs,
    pack_to_front,
    relation_candidates,
    sample_up_to,
    symmetric_in_text_order,
    take,
)

WORKS_FOR, MARRIED_TO = 0, 2
SYMMETRIC_CLASS = torch.tensor([False, False, True])  # Works_For, Located_In, Married_To


def test_negative_sampling_keeps_at_most_the_limit_and_only_candidates():
    torch.manual_seed(0)
    candidates = torch.tensor([[True] * 10 + [False] * 5, [True, False] * 7 + [True]])
    chosen = sample_up_to(candidates, 4)
    assert chosen.sum(dim=1).tolist() == [4, 4]
    assert not (chosen & ~candidates).any()
    assert sample_up_to(candidates, 100).equal(candidates)
    # A new draw each call (each epoch).
    assert not all(sample_up_to(candidates, 4).equal(chosen) for _ in range(5))


def test_entity_candidates_are_every_gold_entity_and_sampled_negatives():
    torch.manual_seed(0)
    classes = torch.tensor([[0, -1, -1, 1, -1, -1]])
    span_mask = torch.tensor([[True, True, True, True, True, False]])
    selected = entity_candidates(classes, span_mask, limit=1)
    assert selected[0, [0, 3]].all() and not selected[0, 5]
    assert selected[0, [1, 2, 4]].sum().item() == 1
    assert entity_candidates(classes, span_mask, limit=10).equal(span_mask)


def test_packing_moves_the_selected_entries_to_the_front_in_order():
    selected = torch.tensor([[False, True, False, True], [True, False, False, False]])
    index, valid = pack_to_front(selected)
    assert index.tolist() == [[1, 3], [0, 1]]
    assert valid.tolist() == [[True, True], [True, False]]
    values = torch.tensor([[[1, 1], [2, 2], [3, 3], [4, 4]], [[5, 5], [6, 6], [7, 7], [8, 8]]])
    assert take(values, index).tolist() == [[[2, 2], [4, 4]], [[5, 5], [6, 6]]]
    assert take(values[..., 0], index).tolist() == [[2, 4], [5, 6]]
    index, valid = pack_to_front(torch.zeros(2, 3, dtype=torch.bool))
    assert index.shape == valid.shape == (2, 0)


def test_ordered_pairs_are_distinct_valid_entries_both_ways():
    pairs = ordered_pairs(torch.tensor([[True, True, False], [True, True, True]])).nonzero().tolist()
    assert pairs == [[0, 0, 1], [0, 1, 0], [1, 0, 1], [1, 0, 2], [1, 1, 0], [1, 1, 2], [1, 2, 0], [1, 2, 1]]


def test_a_symmetric_relation_written_tail_first_moves_to_text_order():
    # Entities start at words 0, 4 and 7; Married_To written 1 -> 0, Works_For 2 -> 0 (not symmetric).
    entity_spans = torch.tensor([[[0, 0], [4, 4], [7, 7]]])
    relations = torch.full((1, 3, 3), -1)
    relations[0, 1, 0] = MARRIED_TO
    relations[0, 2, 0] = WORKS_FOR
    moved = symmetric_in_text_order(relations, entity_spans, SYMMETRIC_CLASS)
    assert moved[0, 0, 1].item() == MARRIED_TO and moved[0, 1, 0].item() == -1
    assert moved[0, 2, 0].item() == WORKS_FOR
    # A reverse cell that has a label of its own keeps it.
    relations[0, 0, 1] = WORKS_FOR
    kept = symmetric_in_text_order(relations, entity_spans, SYMMETRIC_CLASS)
    assert kept[0, 0, 1].item() == WORKS_FOR and kept[0, 1, 0].item() == -1


def test_reverse_of_a_symmetric_relation_is_never_a_negative_and_symmetric_gold_is_in_text_order():
    # Entities at words 0, 4 and 7 (and padding); Married_To written tail-first (1 -> 0), Works_For 0 -> 2.
    entity_spans = torch.tensor([[[0, 0], [4, 4], [7, 7], [-1, -1]]])
    relations = torch.full((1, 4, 4), -1.0)  # AdjacencyField builds a float matrix
    relations[0, 1, 0] = MARRIED_TO
    relations[0, 0, 2] = WORKS_FOR
    labels, selected = relation_candidates(relations, entity_spans, SYMMETRIC_CLASS, limit=None)
    assert labels[0, 0, 1].item() == MARRIED_TO and labels[0, 1, 0].item() == -1
    assert labels[0, 0, 2].item() == WORKS_FOR
    chosen = {tuple(p) for p in selected[0].nonzero().tolist()}
    # Every distinct pair of real entities except (1, 0), the reverse of the symmetric relation;
    # the reverse of a non-symmetric relation (2, 0) stays a negative.
    assert chosen == {(0, 1), (0, 2), (1, 2), (2, 0), (2, 1)}


def test_relation_negatives_are_sampled_up_to_the_limit():
    torch.manual_seed(0)
    entity_spans = torch.tensor([[[0, 0], [4, 4], [7, 7]]])
    relations = torch.full((1, 3, 3), -1.0)
    relations[0, 0, 2] = WORKS_FOR
    _, selected = relation_candidates(relations, entity_spans, SYMMETRIC_CLASS, limit=2)
    assert selected[0, 0, 2] and selected.sum().item() == 1 + 2

import torch

from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.relation_representation import (
    between_context,
    relation_input_dim,
    relation_representation,
)

# One sentence of 5 words, d1 = 2.
WORDS = torch.tensor([[[1.0, 0.0], [0.0, 4.0], [2.0, 1.0], [-1.0, 3.0], [5.0, 5.0]]])


def test_context_is_the_max_of_the_words_strictly_between_the_spans():
    # Eq. 14
    table = RangeMaxTable(WORDS, longest_range=5)
    first = torch.tensor([[0, 0], [3, 4], [0, 0], [0, 2]])
    second = torch.tensor([[3, 4], [0, 0], [1, 2], [2, 3]])
    context = between_context(table, torch.zeros(4, dtype=torch.long), first, second)
    assert context.tolist() == [
        [2.0, 4.0],  # words 1-2: max([0, 4], [2, 1])
        [2.0, 4.0],  # the same pair in the other order
        [0.0, 0.0],  # adjacent spans: nothing between
        [0.0, 0.0],  # overlapping spans
    ]


def test_r_of_s1_s2_and_of_s2_s1_share_one_context():
    # Eq. 15 and 16 for s1 = word 0 and s2 = words 3-4; c(s) and p(s) given directly.
    table = RangeMaxTable(WORDS, longest_range=5)
    spans = torch.tensor([[[0, 0], [3, 4]]])
    c = torch.tensor([[[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]]])
    p = torch.tensor([[[0.1, 0.2], [0.3, 0.4]]])
    pairs = torch.tensor([[0, 0, 1], [0, 1, 0]])
    r = relation_representation(table, spans, c, p, pairs)
    context = [2.0, 4.0]
    assert torch.allclose(r[0], torch.tensor([10.0, 11.0, 12.0] + context + [20.0, 21.0, 22.0] + [0.1, 0.2, 0.3, 0.4]))
    assert torch.allclose(r[1], torch.tensor([20.0, 21.0, 22.0] + context + [10.0, 11.0, 12.0] + [0.3, 0.4, 0.1, 0.2]))
    assert r.size(1) == relation_input_dim(2, 1, 2, entity_logits=True)


def test_without_entity_logits_r_has_no_type_scores():
    table = RangeMaxTable(WORDS, longest_range=5)
    spans = torch.tensor([[[0, 0], [3, 4]]])
    c = torch.tensor([[[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]]])
    r = relation_representation(table, spans, c, None, torch.tensor([[0, 0, 1]]))
    assert r.tolist() == [[10.0, 11.0, 12.0, 2.0, 4.0, 20.0, 21.0, 22.0]]
    assert r.size(1) == relation_input_dim(2, 1, 2, entity_logits=False)

"""`models.candidate_scoring`: spans and span pairs through the heads."""

import torch
from torch import nn

from spert_mt_plugin.models.candidate_scoring import CandidateScorer
from spert_mt_plugin.modules.heads import HeadOutput
from spert_mt_plugin.modules.range_max import RangeMaxTable


class SumHead(nn.Module):
    """Scores a candidate by the sum of its input, so that the input can be read back."""

    def forward(self, inputs):
        return HeadOutput(None, inputs.sum(dim=-1, keepdim=True))


def scorer(entity_logits=True, pair_chunk_size=4096):
    width = nn.Embedding(3, 1)
    with torch.no_grad():
        width.weight.copy_(torch.tensor([[10.0], [20.0], [30.0]]))
    return CandidateScorer(width, nn.Dropout(0.0), SumHead(), SumHead(), entity_logits, pair_chunk_size)


# One sentence of four words, d1 = 1: 1, 4, 2, 3.
TABLE = RangeMaxTable(torch.tensor([[[1.0], [4.0], [2.0], [3.0]]]), longest_range=4)
SPANS = torch.tensor([[[0, 0], [2, 3]]])


def test_a_span_is_scored_from_its_pooled_words_its_width_and_the_cls():
    vectors = scorer().span_vectors(TABLE, SPANS)
    # c(s) = max of the words, width embedding: [1, 10] for word 0, [3, 20] for words 2-3.
    assert vectors.tolist() == [[[1.0, 10.0], [3.0, 20.0]]]
    output = scorer().entities(vectors, torch.tensor([[100.0]]))
    assert output.scores.tolist() == [[[111.0], [123.0]]]


def test_a_pair_is_scored_from_both_spans_the_context_and_the_entity_logits():
    vectors = scorer().span_vectors(TABLE, SPANS)
    type_scores = torch.tensor([[[0.5], [0.25]]])
    pairs = torch.tensor([[0, 0, 1], [0, 1, 0]])
    # Either way: c(s1) + c(s2) = 34, the context between them (word 1) = 4, p(s1) + p(s2) = 0.75.
    assert scorer().pairs(TABLE, SPANS, vectors, type_scores, pairs).scores.tolist() == [[38.75], [38.75]]
    without_logits = scorer(entity_logits=False).pairs(TABLE, SPANS, vectors, type_scores, pairs)
    assert without_logits.scores.tolist() == [[38.0], [38.0]]
    # One pair at a time, the same scores.
    one_by_one = scorer(pair_chunk_size=1).pairs(TABLE, SPANS, vectors, type_scores, pairs)
    assert one_by_one.scores.tolist() == [[38.75], [38.75]]

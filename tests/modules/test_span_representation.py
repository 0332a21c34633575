import torch
from torch import nn

from spert_mt_plugin.modules.range_max import RangeMaxTable, max_pool_words
from spert_mt_plugin.modules.span_representation import entity_input, pool_spans, span_representation


def words_table() -> RangeMaxTable:
    """
    One sentence of 4 words, d1 = 3, from 5 word pieces; word 1 has two pieces:
    w0 = [1, 0, 2], w1 = max([3, -2, 0], [1, -1, -5]) = [3, -1, 0], w2 = [0, 5, 1], w3 = [2, 2, -4].
    """
    pieces = torch.tensor([[[1.0, 0.0, 2.0], [3.0, -2.0, 0.0], [1.0, -1.0, -5.0], [0.0, 5.0, 1.0], [2.0, 2.0, -4.0]]])
    offsets = torch.tensor([[[0, 0], [1, 2], [3, 3], [4, 4]]])
    words = max_pool_words(pieces, offsets)
    assert words.shape == (1, 4, 3)
    return RangeMaxTable(words, longest_range=4)


def width_embedding() -> nn.Embedding:
    # d2 = 2, widths 0..2 (spans of 1..3 words)
    embedding = nn.Embedding(3, 2)
    with torch.no_grad():
        embedding.weight.copy_(torch.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]))
    return embedding


def test_v_of_a_span_is_the_max_over_its_word_pieces():
    # Eq. 1
    spans = torch.tensor([[[0, 1], [1, 3], [2, 2]]])
    v = pool_spans(words_table(), spans)
    assert v[0].tolist() == [
        [3.0, 0.0, 2.0],  # max(w0, w1)
        [3.0, 5.0, 1.0],  # max(w1, w2, w3)
        [0.0, 5.0, 1.0],  # w2
    ]


def test_c_of_a_span_is_its_pooled_words_and_its_width_embedding():
    # Eq. 2: c(s) = v(s) ∘ w_k, k = width - 1; a span wider than the embedding takes its last row.
    spans = torch.tensor([[[0, 1], [1, 3], [2, 2], [0, 3]]])
    c = span_representation(words_table(), spans, width_embedding())
    assert c.shape == (1, 4, 5)
    assert torch.allclose(
        c[0],
        torch.tensor(
            [
                [3.0, 0.0, 2.0, 0.3, 0.4],
                [3.0, 5.0, 1.0, 0.5, 0.6],
                [0.0, 5.0, 1.0, 0.1, 0.2],
                [3.0, 5.0, 2.0, 0.5, 0.6],  # 4 words: width 3, clamped to the last embedding (2)
            ]
        ),
    )


def test_x_of_a_span_appends_the_sentence_cls_embedding():
    # Eq. 3: x(s) = c(s) ∘ e_CLS, the same e_CLS for every span of a sentence.
    c = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    cls = torch.tensor([[0.5, -0.5, 9.0], [1.5, -1.5, 8.0]])
    x = entity_input(c, cls)
    assert x.tolist() == [
        [[1.0, 2.0, 0.5, -0.5, 9.0], [3.0, 4.0, 0.5, -0.5, 9.0]],
        [[5.0, 6.0, 1.5, -1.5, 8.0], [7.0, 8.0, 1.5, -1.5, 8.0]],
    ]

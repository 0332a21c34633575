"""
The span representation (paper section 3.2, SPEC.md "Encoder and span representation"): v(s),
c(s) and the entity input x(s), from a `RangeMaxTable` over the sentence's words.
"""

import torch
from torch import nn

from spert_mt_plugin.modules.range_max import RangeMaxTable


def pool_spans(table: RangeMaxTable, spans: torch.Tensor) -> torch.Tensor:
    """
    Eq. 1: v(s) = maxpool(e_i, ..., e_j), the element-wise max over the word pieces of each span.

    `table` holds the words, each already the max of its word pieces (`max_pool_words`), so the
    max over a span's words is the max over its word pieces. `spans` is `(batch, n, 2)` with
    inclusive word indices; a `-1` padding span pools word 0 and is masked by the caller.
    Returns `(batch, n, d1)`.
    """
    batch_index = torch.arange(spans.size(0), device=spans.device).unsqueeze(1).expand(spans.shape[:2])
    return table.query(batch_index, spans[..., 0].clamp(min=0), spans[..., 1].clamp(min=0))


def span_representation(table: RangeMaxTable, spans: torch.Tensor, width_embedding: nn.Embedding) -> torch.Tensor:
    """
    Eq. 2: c(s) = v(s) ∘ w_k, the pooled span (eq. 1) and the embedding of its width k (words - 1).
    Spans wider than the embedding share its last row. Returns `(batch, n, d1 + d2)`.
    """
    widths = (spans[..., 1] - spans[..., 0]).clamp(0, width_embedding.num_embeddings - 1)
    return torch.cat([pool_spans(table, spans), width_embedding(widths)], dim=-1)


def entity_input(span_vectors: torch.Tensor, cls: torch.Tensor) -> torch.Tensor:
    """
    Eq. 3: x(s) = c(s) ∘ e_CLS, each span's c(s) (`(batch, n, d1 + d2)`) with its sentence's
    [CLS] embedding (`(batch, d1)`). Returns `(batch, n, 2 d1 + d2)`.
    """
    return torch.cat([span_vectors, cls.unsqueeze(1).expand(-1, span_vectors.size(1), -1)], dim=-1)

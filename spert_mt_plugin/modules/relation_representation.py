"""
The relation representation (paper section 3.5, SPEC.md "Relations"): the context between two
spans, v(s1, s2), and the relation input r(s1, s2) of an ordered pair.
"""

from typing import Optional

import torch

from spert_mt_plugin.modules.range_max import RangeMaxTable


def between_context(
    table: RangeMaxTable, batch: torch.Tensor, first: torch.Tensor, second: torch.Tensor
) -> torch.Tensor:
    """
    Eq. 14: v(s1, s2), the max over the words strictly between two spans; a zero vector when they
    touch or overlap. It does not depend on the order of the spans: r(s1, s2) and r(s2, s1) share
    it (eq. 16).

    `first` and `second` are `(num_pairs, 2)` inclusive word spans in sentences `batch`
    (`(num_pairs,)`). Returns `(num_pairs, d1)`.
    """
    start = torch.minimum(first[:, 1], second[:, 1]) + 1
    end = torch.maximum(first[:, 0], second[:, 0]) - 1
    return table.query(batch, start, end)


def relation_representation(
    table: RangeMaxTable,
    spans: torch.Tensor,
    span_vectors: torch.Tensor,
    type_scores: Optional[torch.Tensor],
    pairs: torch.Tensor,
) -> torch.Tensor:
    """
    Eq. 15 and 16: r(s1, s2) = c(s1) ∘ v(s1, s2) ∘ c(s2) ∘ p(s1) ∘ p(s2) for each ordered pair;
    the reversed pair gives r(s2, s1) = c(s2) ∘ v(s1, s2) ∘ c(s1) ∘ p(s2) ∘ p(s1), with the same
    context.

    # Parameters

    table : `RangeMaxTable`
        The sentences' words.
    spans : `torch.Tensor`, `(batch, n, 2)`
        The entity spans, inclusive word indices.
    span_vectors : `torch.Tensor`, `(batch, n, d1 + d2)`
        Their c(s) (eq. 2).
    type_scores : `torch.Tensor`, optional, `(batch, n, d3)`
        Their entity type scores p(s); `None` leaves them out (the `-Entity Logits` ablation).
    pairs : `torch.Tensor`, `(num_pairs, 3)`
        Sentence, head (s1) and tail (s2) index into `spans` of each pair.

    Returns `(num_pairs, 3 d1 + 2 d2 [+ 2 d3])`.
    """
    batch, head, tail = pairs.unbind(-1)
    context = between_context(table, batch, spans[batch, head], spans[batch, tail])
    parts = [span_vectors[batch, head], context, span_vectors[batch, tail]]
    if type_scores is not None:
        parts += [type_scores[batch, head], type_scores[batch, tail]]
    return torch.cat(parts, dim=-1)


def relation_input_dim(hidden: int, width_embedding_dim: int, num_entity_types: int, entity_logits: bool) -> int:
    """The size of r(s1, s2): 3 d1 + 2 d2, plus 2 d3 with the entity logits."""
    return 3 * hidden + 2 * width_embedding_dim + (2 * num_entity_types if entity_logits else 0)

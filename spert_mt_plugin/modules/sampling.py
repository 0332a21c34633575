"""
Which candidates enter the loss and the relation step, as pure tensor functions: negative
sampling, packing the chosen candidates to the front of their rows, the ordered pairs of entities
and symmetric gold relations in text order (SPEC.md, "Relations" and "Joint loss and training").

Nothing here has parameters; only `sample_up_to` (and the functions that call it with a limit)
draws random numbers, from torch's global generator, which AllenNLP seeds.
"""

from typing import Optional, Tuple

import torch


def sample_up_to(candidates: torch.Tensor, limit: int) -> torch.Tensor:
    """
    Keeps at most `limit` of the `True` entries of each row of `candidates` (shape
    `(batch, n)`), chosen uniformly at random, so every epoch draws a new sample.
    """
    keys = torch.rand(candidates.shape, device=candidates.device).masked_fill(~candidates, 2.0)
    ranks = keys.argsort(dim=1).argsort(dim=1)
    return candidates & (ranks < limit)


def entity_candidates(classes: torch.Tensor, span_mask: torch.Tensor, limit: int) -> torch.Tensor:
    """
    The candidate spans of the training loss, `(batch, num_spans)`: every gold entity (`classes`
    holds class indices, `-1` for "no entity") and at most `limit` sampled negatives per sentence.
    """
    positive = span_mask & (classes >= 0)
    return positive | sample_up_to(span_mask & (classes < 0), limit)


def pack_to_front(selected: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The index that moves the selected entries of each row of `selected` (`(batch, n)`) to its
    front, in their original order, cut to the longest row. Returns `(index, valid)`, both
    `(batch, most selected)`: `valid` is `False` where a shorter row is padded.
    """
    counts = selected.sum(dim=1)
    most = int(counts.max()) if counts.numel() else 0
    # A stable sort keeps the selected entries in their original order.
    index = selected.to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :most]
    return index, selected.gather(1, index)


def take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """`values[b, index[b, i]]`: rows of `values` (`(batch, n, ...)`) picked by `index` (`(batch, m)`)."""
    index = index.view(index.shape + (1,) * (values.dim() - 2)).expand(index.shape + values.shape[2:])
    return values.gather(1, index)


def ordered_pairs(valid: torch.Tensor) -> torch.Tensor:
    """The ordered pairs `(i, j)`, `i != j`, of valid entries of `valid` (`(batch, n)`): `(batch, n, n)`."""
    distinct = ~torch.eye(valid.size(1), dtype=torch.bool, device=valid.device)
    return valid.unsqueeze(2) & valid.unsqueeze(1) & distinct


def symmetric_in_text_order(
    relations: torch.Tensor, entity_spans: torch.Tensor, symmetric_class: torch.Tensor
) -> torch.Tensor:
    """
    Moves each gold relation of a symmetric type whose head starts after its tail to the reverse
    cell (head first in the text, as SpERT stores them), so that a symmetric relation is always
    learnt in one direction. A reverse cell that already has a label keeps it.

    # Parameters

    relations : `torch.Tensor`, `(batch, num_entities, num_entities)`
        Relation class of each ordered pair of gold entities, `-1` for none.
    entity_spans : `torch.Tensor`, `(batch, num_entities, 2)`
    symmetric_class : `torch.Tensor`, `(num_relation_classes,)`
        Whether each relation class is symmetric.
    """
    if not bool(symmetric_class.any()):
        return relations
    starts = entity_spans[..., 0]
    backwards = starts.unsqueeze(2) > starts.unsqueeze(1)
    move = (relations >= 0) & symmetric_class[relations.clamp(min=0)] & backwards
    if not bool(move.any()):
        return relations
    moved = relations.masked_fill(move, -1)
    incoming = move.transpose(1, 2) & (moved < 0)
    return torch.where(incoming, relations.transpose(1, 2), moved)


def relation_candidates(
    relations: torch.Tensor, entity_spans: torch.Tensor, symmetric_class: torch.Tensor, limit: Optional[int]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The candidate pairs of the relation loss over the ordered pairs of gold entities. Returns
    `(labels, selected)`, both `(batch, n, n)`: `labels` are `relations` with symmetric ones in
    text order; `selected` holds the gold relations and the unrelated distinct pairs (at most
    `limit` of them per sentence, sampled; all when `limit` is `None`), never the reverse of a
    symmetric gold relation, which is the same relation.

    `relations` is as in `symmetric_in_text_order`, of any dtype (AdjacencyField builds a float
    matrix).
    """
    relations = symmetric_in_text_order(relations.long(), entity_spans, symmetric_class)
    valid = ordered_pairs(entity_spans[..., 0] >= 0)
    positive = valid & (relations >= 0)
    symmetric = positive & symmetric_class[relations.clamp(min=0)]
    negative = valid & (relations < 0) & ~symmetric.transpose(1, 2)
    if limit is not None:
        negative = sample_up_to(negative.flatten(1), limit).view_as(negative)
    return relations, positive | negative

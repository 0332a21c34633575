"""
Overlapping spans, and the flat decoding that removes them: when the training data has no nested
entities, a prediction keeps the best-scoring spans that share no word (greedily, in descending
score, as flat NER decoders do) and no relation joins two overlapping spans.

Spans are `(start, end)` with *inclusive* ends, `-1` padding, as everywhere in the model.
"""

import torch


def overlaps(spans: torch.Tensor) -> torch.Tensor:
    """
    `(batch, n, n)`: whether spans `i` and `j` of a row of `spans` (`(batch, n, 2)`) share at least
    one word. A span overlaps itself; padding is not masked (callers combine with their own mask).
    """
    starts, ends = spans[..., 0], spans[..., 1]
    return (starts.unsqueeze(2) <= ends.unsqueeze(1)) & (starts.unsqueeze(1) <= ends.unsqueeze(2))


def has_nested(spans: torch.Tensor) -> bool:
    """Whether two distinct valid spans of any row of `spans` (`(batch, n, 2)`) overlap: nested annotation."""
    valid = spans[..., 0] >= 0
    distinct = ~torch.eye(spans.size(1), dtype=torch.bool, device=spans.device)
    return bool((overlaps(spans) & valid.unsqueeze(2) & valid.unsqueeze(1) & distinct).any())


def best_non_overlapping(spans: torch.Tensor, scores: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """
    Flat decoding: `(batch, n)`, the candidates kept when, in each row, candidates are taken in
    descending score (ties: the earlier first) and one is dropped if it overlaps one already taken.

    Because the decision about a candidate depends only on better-scored ones, raising the entity
    threshold afterwards (keeping the kept ones that score above it) gives the same set as decoding
    at that threshold: `spert-thresholds` relies on it.

    # Parameters

    spans : `torch.Tensor`, `(batch, n, 2)`
    scores : `torch.Tensor`, `(batch, n)`
    candidates : `torch.Tensor`, `(batch, n)`, bool
        The spans that compete (predicted entities); the others are never kept.
    """
    if candidates.size(1) == 0:
        return candidates
    order = scores.masked_fill(~candidates, float("-inf")).argsort(dim=1, descending=True, stable=True)
    ranked = candidates.gather(1, order)
    index = order.unsqueeze(2).expand(-1, -1, 2)
    clash = overlaps(spans.gather(1, index))
    kept = torch.zeros_like(ranked)
    # One step per rank (the number of predicted entities of the fullest sentence), all sentences at once.
    for rank in range(ranked.size(1)):
        blocked = (clash[:, rank, :rank] & kept[:, :rank]).any(dim=1)
        kept[:, rank] = ranked[:, rank] & ~blocked
    return torch.zeros_like(candidates).scatter(1, order, kept)

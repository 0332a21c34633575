"""
The losses of the heads: SpERT.MT's multi-task head (SPEC.md, "The multi-task head") and SpERT's
single-step heads (the `-MTL` ablation and the SpERT baseline). The heads combine them
(`MultiTaskHead.loss` is eq. 10).

Every function returns one loss value per candidate; `reduce_loss` turns them into the batch loss.
"""

import torch
import torch.nn.functional as F
from allennlp.common import FromParams
from allennlp.common.checks import ConfigurationError


def pairwise_ranking_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    margin_positive: float = 2.5,
    margin_negative: float = 0.5,
    scale: float = 2.0,
) -> torch.Tensor:
    """
    Eq. 7-9: the pairwise ranking loss of dos Santos et al. (2015), per candidate: L+ (eq. 7) plus
    L- (eq. 8); `reduce_loss` sums it over the candidates (eq. 9).

    # Parameters

    scores : `torch.Tensor`, `(num_candidates, num_classes)`
        Class scores; the "no class" (NA) option has no score.
    labels : `torch.Tensor`, `(num_candidates,)`
        The gold class of each candidate, `-1` for NA.

    A positive pays `log(1 + exp(scale * (margin_positive - s_gold)))`; every candidate pays
    `log(1 + exp(scale * (margin_negative + s_wrong)))` for its highest-scoring wrong class
    (for a negative: its highest-scoring class).
    """
    positive = labels >= 0
    safe_labels = labels.clamp(min=0).unsqueeze(-1)
    gold_scores = scores.gather(-1, safe_labels).squeeze(-1)
    # The gold class may not be chosen as the "wrong" one.
    wrong_scores = scores.scatter(-1, safe_labels, float("-inf")) if scores.size(-1) > 1 else None
    best_wrong = torch.where(
        positive,
        wrong_scores.max(-1).values if wrong_scores is not None else torch.full_like(gold_scores, float("-inf")),
        scores.max(-1).values,
    )
    loss_positive = torch.where(positive, F.softplus(scale * (margin_positive - gold_scores)), 0.0)
    # softplus(-inf) = 0: a positive of a single-class task has no wrong class.
    loss_negative = F.softplus(scale * (margin_negative + best_wrong))
    return loss_positive + loss_negative


def iou_scaled_bce(
    logits: torch.Tensor, targets: torch.Tensor, max_iou: torch.Tensor, delta: float = 0.25
) -> torch.Tensor:
    """
    Eq. 13: the IoU-scaled identification loss, per candidate:
    `-q (1 - delta) log p - delta (1 - q) (1 + max_iou) log (1 - p)` with `p = sigmoid(logits)`,
    `q` the 0/1 target and `max_iou` the candidate's largest IoU with a gold entity (ENIoU).
    """
    targets = targets.to(logits.dtype)
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    return -targets * (1 - delta) * log_p - delta * (1 - targets) * (1 + max_iou) * log_not_p


def binary_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Eq. 4: the binary cross-entropy H(p, q) per candidate, `p = sigmoid(logits)`, `q` the 0/1 target."""
    return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """
    SpERT's entity loss per candidate: cross-entropy over `logits` (`(..., num_classes + 1)`, the
    "no class" option at index 0) with `labels` holding class indices and `-1` for "no class".
    """
    flat = F.cross_entropy(logits.flatten(0, -2), (labels + 1).flatten(), reduction="none")
    return flat.view_as(labels)


def sigmoid_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, over_types: str = "mean") -> torch.Tensor:
    """
    SpERT's relation loss per candidate: one binary cross-entropy per class (`logits`:
    `(num_candidates, num_classes)`) against the one-hot target of `labels` (`-1`: no class, an
    all-zero target), combined over the classes by `over_types`: `"mean"` as SpERT's code does
    (sum / number of types) or `"sum"`.
    """
    targets = F.one_hot(labels.clamp(min=0), logits.size(-1)).to(logits.dtype) * (labels >= 0).unsqueeze(-1)
    per_type = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return per_type.mean(-1) if over_types == "mean" else per_type.sum(-1)


def reduce_loss(losses: torch.Tensor, mask: torch.Tensor, reduction: str) -> torch.Tensor:
    """
    Sum (the paper's eq. 5 and 9) or mean of `losses` over the candidates where `mask` is set
    (0 when there are none).
    """
    total = (losses * mask).sum()
    if reduction == "sum":
        return total
    return total / mask.sum().clamp(min=1)


def joint_loss(entity_loss: torch.Tensor, relation_loss: torch.Tensor) -> torch.Tensor:
    """
    Eq. 17: L = L1 + L2, the entity head's loss plus the relation head's, unweighted (each head
    weighs its own parts, eq. 10).
    """
    return entity_loss + relation_loss


class MultiTaskLoss(FromParams):
    """
    The weights and margins of one multi-task head's loss (eq. 10 in `MultiTaskHead.loss`):
    `alpha * identification + beta * ranking`.

    # Parameters

    alpha : `float`, optional (default = `1.0`)
        Weight of the identification (binary) loss.
    beta : `float`, optional (default = `1.0`)
        Weight of the classification (ranking) loss.
    margin_positive, margin_negative, scale : `float`
        m+, m- and gamma of the ranking loss (2.5, 0.5, 2).
    iou_delta : `float`, optional (default = `0.25`)
        delta of the IoU-scaled identification loss (entities only).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 1.0,
        margin_positive: float = 2.5,
        margin_negative: float = 0.5,
        scale: float = 2.0,
        iou_delta: float = 0.25,
    ) -> None:
        if alpha < 0 or beta < 0 or alpha + beta == 0:
            raise ConfigurationError(
                f"loss weights alpha and beta must be >= 0 and not both 0, got alpha={alpha}, beta={beta}"
            )
        if scale <= 0:
            # A non-positive gamma turns the ranking loss upside down (it rewards wrong scores).
            raise ConfigurationError(f"the ranking loss's scale (gamma) must be positive, got {scale}")
        if not 0 < iou_delta < 1:
            # delta = 0 drops the negatives' term of eq. 13, delta = 1 the positives'.
            raise ConfigurationError(f"iou_delta must lie strictly between 0 and 1, got {iou_delta}")
        self.alpha = alpha
        self.beta = beta
        self.margin_positive = margin_positive
        self.margin_negative = margin_negative
        self.scale = scale
        self.iou_delta = iou_delta

    def ranking(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Eq. 7-8 with these margins and scale (`pairwise_ranking_loss`)."""
        return pairwise_ranking_loss(scores, labels, self.margin_positive, self.margin_negative, self.scale)

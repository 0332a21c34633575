"""
SpERT.MT's multi-task head (paper section 3.3, SPEC.md "The multi-task head").
"""

from typing import Optional, Tuple

import torch

from spert_mt_plugin.modules.heads.head import Head, HeadOutput, HeadSettings, initialised_linear
from spert_mt_plugin.modules.losses import MultiTaskLoss, binary_cross_entropy, iou_scaled_bce


class MultiTaskHead(Head):
    """
    From one input vector, an identification logit ("is this a real entity / related pair?") and
    one margin score per class, NA excluded. A candidate takes its best class when that score
    reaches the threshold theta; the identification output serves training alone.

    # Parameters

    input_dim : `int`
    num_classes : `int`
    settings : `HeadSettings`, optional
    loss : `MultiTaskLoss`, optional
        alpha, beta, the ranking margins and scale, delta.
    threshold : `float`, optional (default = `0.85`)
        theta. A public attribute: setting it changes the decisions from then on (no retraining;
        `SpertMT.set_thresholds`).
    iou_scaled : `bool`, optional (default = `False`)
        Identification by the IoU-scaled loss (eq. 13, entities) instead of plain BCE (eq. 4).
    """

    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        settings: Optional[HeadSettings] = None,
        loss: Optional[MultiTaskLoss] = None,
        threshold: float = 0.85,
        iou_scaled: bool = False,
    ) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.identification = initialised_linear(input_dim, 1, settings.init_std)
        self.classification = initialised_linear(input_dim, num_classes, settings.init_std, bias=settings.class_bias)
        self._weights = loss or MultiTaskLoss()
        self.threshold = threshold
        self._iou_scaled = iou_scaled

    def forward(self, inputs: torch.Tensor) -> HeadOutput:  # type: ignore
        """
        Eq. 6: score_c = s^T W[:, c] for every class c (bias-free unless `class_bias`), and the
        identification logit. `inputs`: `(..., input_dim)`.
        """
        return HeadOutput(self.identification(inputs).squeeze(-1), self.classification(inputs))

    def loss(self, output: HeadOutput, classes: torch.Tensor, max_iou: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Eq. 10 per candidate: alpha * H + beta * (L+ + L-), H the identification loss (eq. 13 when
        the head is IoU-scaled and `max_iou` is given, else eq. 4), L+ and L- the ranking loss
        (eq. 7-8). The sums of eq. 5, 9 and 10 are `reduce_loss`'s.
        """
        positive = classes >= 0
        if self._iou_scaled and max_iou is not None:
            identification = iou_scaled_bce(output.identification, positive, max_iou, self._weights.iou_delta)
        else:
            identification = binary_cross_entropy(output.identification, positive)
        ranking = self._weights.ranking(output.scores.flatten(0, -2), classes.flatten()).view_as(classes)
        return self._weights.alpha * identification + self._weights.beta * ranking

    def decide(self, output: HeadOutput) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        Eq. 18: each candidate's best class when its score reaches theta, else NA (`-1`).
        Returns `(class index or -1, best score)`.
        """
        best_score, best_class = output.scores.max(dim=-1)
        return best_class.masked_fill(best_score < self.threshold, -1), best_score

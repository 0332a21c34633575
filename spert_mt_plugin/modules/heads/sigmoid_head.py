"""
SpERT's relation classifier, the `-MTL` ablation's and the SpERT baseline's relation head.
"""

from typing import Optional, Tuple

import torch

from spert_mt_plugin.modules.heads.head import Head, HeadOutput, HeadSettings, initialised_linear
from spert_mt_plugin.modules.losses import sigmoid_cross_entropy


class SigmoidHead(Head):
    """
    One logit per class, each an independent sigmoid trained with binary cross-entropy, so a
    candidate takes every class whose probability reaches `threshold` (SpERT's
    `rel_filter_threshold`, 0.4), several or none. `over_types` combines the per-class
    cross-entropies: `"mean"` as SpERT's code does, or `"sum"`. `threshold` is a public attribute:
    setting it changes the decisions from then on (`SpertMT.set_thresholds`).
    """

    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        settings: Optional[HeadSettings] = None,
        threshold: float = 0.4,
        over_types: str = "mean",
    ) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.classification = initialised_linear(input_dim, num_classes, settings.init_std)
        self.threshold = threshold
        self._over_types = over_types

    def forward(self, inputs: torch.Tensor) -> HeadOutput:  # type: ignore
        """No identification output; logits `(..., num_classes)`."""
        return HeadOutput(None, self.classification(inputs))

    def loss(self, output: HeadOutput, classes: torch.Tensor, max_iou: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One binary cross-entropy per class against the one-hot gold class (`sigmoid_cross_entropy`)."""
        return sigmoid_cross_entropy(output.scores, classes, self._over_types)

    def decisions(self, output: HeadOutput) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every class whose probability reaches the threshold: `(candidate index, class index, probability)`."""
        probabilities = output.scores.sigmoid()
        candidate, label = (probabilities >= self.threshold).nonzero(as_tuple=True)
        return candidate, label, probabilities[candidate, label]

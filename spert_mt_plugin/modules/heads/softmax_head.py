"""
SpERT's entity classifier, the `-MTL` ablation's and the SpERT baseline's entity head.
"""

from typing import Optional, Tuple

import torch

from spert_mt_plugin.modules.heads.head import Head, HeadOutput, HeadSettings, initialised_linear
from spert_mt_plugin.modules.losses import softmax_cross_entropy


class SoftmaxHead(Head):
    """
    One linear map to the classes plus a NA option at index 0, trained with cross-entropy; a
    candidate takes the most probable option and carries its probability as its score.

    # Parameters

    input_dim : `int`
    num_classes : `int`
    settings : `HeadSettings`, optional
    threshold : `float`, optional (default = `0.0`)
        The least probability the chosen class must have: a candidate whose most probable option
        is a class with a lower probability becomes NA. At 0 the decision is the plain argmax
        (SpERT's). A public attribute: setting it changes the decisions from then on
        (`SpertMT.set_thresholds`).
    """

    def __init__(
        self, input_dim: int, num_classes: int, settings: Optional[HeadSettings] = None, threshold: float = 0.0
    ) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.classification = initialised_linear(input_dim, num_classes + 1, settings.init_std)
        self.threshold = threshold

    def forward(self, inputs: torch.Tensor) -> HeadOutput:  # type: ignore
        """No identification output; logits `(..., num_classes + 1)`, NA at index 0."""
        return HeadOutput(None, self.classification(inputs))

    def type_scores(self, output: HeadOutput) -> torch.Tensor:
        """The logits of the classes, without NA's."""
        return output.scores[..., 1:]

    def class_scores(self, output: HeadOutput) -> torch.Tensor:
        """The probability of each class (NA's share left out), the unit of this head's scores."""
        return output.scores.softmax(dim=-1)[..., 1:]

    def loss(self, output: HeadOutput, classes: torch.Tensor, max_iou: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Cross-entropy over the classes and NA (`softmax_cross_entropy`); no IoU scaling."""
        return softmax_cross_entropy(output.scores, classes)

    def decide(self, output: HeadOutput) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        The most probable of the classes and NA, NA too when that class's probability is below
        the threshold: `(class index or -1, its probability)`.
        """
        best_probability, best = output.scores.softmax(dim=-1).max(dim=-1)
        return (best - 1).masked_fill(best_probability < self.threshold, -1), best_probability

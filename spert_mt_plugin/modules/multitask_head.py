"""
The classification heads: SpERT.MT's multi-task head and SpERT's single-step heads (`-MTL`).

Every head maps an input vector to `(identification logit or None, class outputs)`; the model
builds them once it knows the input sizes, from one `HeadSettings`.
"""
from typing import Optional, Tuple

import torch
from allennlp.common import FromParams
from torch import nn


class HeadSettings(FromParams):
    """
    How the heads' linear maps start and whether the class scores have a bias.

    # Parameters

    init_std : `float`, optional (default = `0.02`)
        Weights (and the width embedding) are drawn from N(0, init_std), as SpERT initialises its
        classifiers (BERT's `initializer_range`).
    class_bias : `bool`, optional (default = `False`)
        A bias on the multi-task class scores. SPEC: `score_c = x . W[:, c]`, bias-free. SpERT's
        own heads (`-MTL`) always have a bias.
    """

    def __init__(self, init_std: float = 0.02, class_bias: bool = False) -> None:
        if init_std <= 0:
            raise ValueError(f"init_std must be positive, got {init_std}")
        self.init_std = init_std
        self.class_bias = class_bias


def _linear(input_dim: int, output_dim: int, init_std: float, bias: bool = True) -> nn.Linear:
    layer = nn.Linear(input_dim, output_dim, bias=bias)
    nn.init.normal_(layer.weight, std=init_std)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class MultiTaskHead(nn.Module):
    """
    SpERT.MT's head: from one input vector, an identification logit ("is this a real entity /
    related pair?") and one score per class, the "no class" option excluded. The scores are
    margin scores trained with the ranking loss: a candidate takes its best class when that
    score reaches the threshold theta.
    """

    def __init__(self, input_dim: int, num_classes: int, settings: Optional[HeadSettings] = None) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.identification = _linear(input_dim, 1, settings.init_std)
        self.classification = _linear(input_dim, num_classes, settings.init_std, bias=settings.class_bias)

    def forward(self, inputs: torch.Tensor) -> Tuple[Optional[torch.Tensor], torch.Tensor]:
        """Returns `(identification logits (...,), class scores (..., num_classes))`."""
        return self.identification(inputs).squeeze(-1), self.classification(inputs)


class SoftmaxHead(nn.Module):
    """
    SpERT's entity classifier (`-MTL`): one linear map to the classes plus a "no class" option at
    index 0, trained with cross-entropy; a candidate takes the most probable option.
    """

    def __init__(self, input_dim: int, num_classes: int, settings: Optional[HeadSettings] = None) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.classification = _linear(input_dim, num_classes + 1, settings.init_std)

    def forward(self, inputs: torch.Tensor) -> Tuple[None, torch.Tensor]:
        """Returns `(None, logits (..., num_classes + 1))`; index 0 is "no class"."""
        return None, self.classification(inputs)


class SigmoidHead(nn.Module):
    """
    SpERT's relation classifier (`-MTL`): one logit per class, each an independent sigmoid
    trained with binary cross-entropy, so a candidate may take several classes (every class whose
    probability reaches a threshold, 0.4 in SpERT) or none.
    """

    def __init__(self, input_dim: int, num_classes: int, settings: Optional[HeadSettings] = None) -> None:
        super().__init__()
        settings = settings or HeadSettings()
        self.classification = _linear(input_dim, num_classes, settings.init_std)

    def forward(self, inputs: torch.Tensor) -> Tuple[None, torch.Tensor]:
        """Returns `(None, logits (..., num_classes))`."""
        return None, self.classification(inputs)

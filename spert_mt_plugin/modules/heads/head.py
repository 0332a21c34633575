"""
What every classification head shares: its settings, its output and the small interface the
model calls (forward, type scores, loss, decision), so the model never asks which kind it holds.
"""

from typing import NamedTuple, Optional, Sequence, Tuple

import torch
from allennlp.common import FromParams
from allennlp.common.checks import ConfigurationError
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
            raise ConfigurationError(f"init_std must be positive, got {init_std}")
        self.init_std = init_std
        self.class_bias = class_bias


def initialised_linear(input_dim: int, output_dim: int, init_std: float, bias: bool = True) -> nn.Linear:
    """A linear map with N(0, init_std) weights and a zero bias."""
    layer = nn.Linear(input_dim, output_dim, bias=bias)
    nn.init.normal_(layer.weight, std=init_std)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class HeadOutput(NamedTuple):
    """
    A head's output for candidates of shape `S`: the identification logits (`S`; only the
    multi-task head has them) and the class outputs (`S + (num_outputs,)`).
    """

    identification: Optional[torch.Tensor]
    scores: torch.Tensor

    def first(self, count: int) -> "HeadOutput":
        """The output of the first `count` candidates of each row (`S = (batch, n)`)."""
        identification = None if self.identification is None else self.identification[:, :count]
        return HeadOutput(identification, self.scores[:, :count])

    @staticmethod
    def cat(outputs: Sequence["HeadOutput"]) -> "HeadOutput":
        """The outputs of consecutive chunks of candidates (`S = (num_candidates,)`), joined."""
        identification = None if outputs[0].identification is None else torch.cat([o.identification for o in outputs])
        return HeadOutput(identification, torch.cat([o.scores for o in outputs]))


class Head(nn.Module):
    """
    A classifier of candidates (spans or span pairs) into classes, the "no class" option (NA)
    aside. Each kind owns its loss and its decision rule.

    Every head has a public `threshold`, the least score a class needs to be taken (a margin score
    or a probability, as the kind of head gives); setting it changes the decisions from then on.
    """

    threshold: float

    def forward(self, inputs: torch.Tensor) -> HeadOutput:  # type: ignore
        raise NotImplementedError

    def type_scores(self, output: HeadOutput) -> torch.Tensor:
        """One score per class, NA excluded: p(s), the entity logits of the relation input (eq. 15)."""
        return output.scores

    def class_scores(self, output: HeadOutput) -> torch.Tensor:
        """
        One score per class, NA excluded, in the unit of a prediction's `score` (a margin score or
        a probability), whatever the decision: the scores of entities the user gives.
        """
        return output.scores

    def loss(self, output: HeadOutput, classes: torch.Tensor, max_iou: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        The loss of each candidate (shaped like `classes`, the gold class index or `-1` for NA).
        `max_iou` is each candidate's ENIoU, which only an IoU-scaled head uses.
        """
        raise NotImplementedError

    def decide(self, output: HeadOutput) -> Tuple[torch.Tensor, torch.Tensor]:
        """`(class index or -1 for NA, score)` of every candidate, for heads that pick one class."""
        raise NotImplementedError(f"{type(self).__name__} may give a candidate several classes: use `decisions`")

    def decisions(self, output: HeadOutput) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """
        Every class the candidates (`(num_candidates,)`) take: `(candidate index, class index,
        score)`, one entry per decision.
        """
        label, score = self.decide(output)
        candidate = (label >= 0).nonzero(as_tuple=True)[0]
        return candidate, label[candidate], score[candidate]

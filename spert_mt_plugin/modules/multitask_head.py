import torch
from torch import nn


class MultiTaskHead(nn.Module):
    """
    Two outputs from one input vector: an identification logit ("is this a real entity /
    related pair?") and one bias-free score per class, the "no class" option excluded.

    # Parameters

    input_dim : `int`
    num_classes : `int`
    init_std : `float`, optional (default = `0.02`)
        Weights are drawn from N(0, init_std).
    """

    def __init__(self, input_dim: int, num_classes: int, init_std: float = 0.02) -> None:
        super().__init__()
        self.identification = nn.Linear(input_dim, 1)
        self.classification = nn.Linear(input_dim, num_classes, bias=False)
        for layer in (self.identification, self.classification):
            nn.init.normal_(layer.weight, std=init_std)
        nn.init.zeros_(self.identification.bias)

    def forward(self, inputs: torch.Tensor):
        """Returns `(identification logits (...,), class scores (..., num_classes))`."""
        return self.identification(inputs).squeeze(-1), self.classification(inputs)


class SoftmaxHead(nn.Module):
    """
    The single-task head of SpERT (the `-MTL` ablation): one linear map to the classes plus a
    "no class" option at index 0, trained with cross-entropy.
    """

    def __init__(self, input_dim: int, num_classes: int, init_std: float = 0.02) -> None:
        super().__init__()
        self.classification = nn.Linear(input_dim, num_classes + 1)
        nn.init.normal_(self.classification.weight, std=init_std)
        nn.init.zeros_(self.classification.bias)

    def forward(self, inputs: torch.Tensor):
        """Returns `(None, logits (..., num_classes + 1))`; index 0 is "no class"."""
        return None, self.classification(inputs)

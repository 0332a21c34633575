"""
Flat or nested entities: the decoding the model's `entity_decoding` asks for, and the record of
whether its training data had nested (overlapping) entities, which `"auto"` follows.

- `"flat"`: predictions keep the best-scoring entities that share no word, and no relation joins
  two overlapping spans (`modules.span_overlap`);
- `"nested"`: every span the entity head accepts is an entity, overlapping or not;
- `"auto"`: flat unless the training data had nested entities, which the model records while it
  trains (archives made before it did decode flat under `"auto"`).

The record itself is the model's buffer `trained_on_nested_entities`, saved with the weights (its
key is part of the archive format); `NestingRecord` keeps what goes with it in one process.
"""

from typing import Dict

import torch
import torch.distributed as dist
from allennlp.common.checks import ConfigurationError
from allennlp.common.util import is_distributed
from torch import Tensor, nn

from spert_mt_plugin.modules.span_overlap import has_nested

ENTITY_DECODINGS = ("auto", "flat", "nested")
# The buffer's name in the model's state dict.
NESTING_BUFFER = "trained_on_nested_entities"


def checked_entity_decoding(value: str) -> str:
    """`value` if it is one of `ENTITY_DECODINGS`; a `ConfigurationError` naming them otherwise."""
    if value not in ENTITY_DECODINGS:
        raise ConfigurationError(f"entity_decoding must be one of {', '.join(ENTITY_DECODINGS)}, got {value!r}")
    return value


def decodes_flat(entity_decoding: str, trained_on_nested_entities: Tensor) -> bool:
    """Whether predictions keep no overlapping entities: `"auto"` is flat unless the training data nested."""
    if entity_decoding == "auto":
        return not bool(trained_on_nested_entities)
    return entity_decoding == "flat"


class NestingRecord:
    """
    What one process knows about the nesting of the training entities, beside the saved record
    (the model's `trained_on_nested_entities` buffer, which each method is handed).

    `seen_here`: whether this process's own training batches held nested entities. It is not a
    buffer: distributed training overwrites buffers with the primary worker's at every forward pass.

    `in_weights`: False once weights saved before the buffer existed are loaded. Such a model was
    evaluated with nested decoding, which `results.predictions` repeats so that kept predictions
    match the run's metrics; under `"auto"` it decodes flat (the buffer stays False).
    """

    def __init__(self) -> None:
        self.seen_here = False
        self.in_weights = True

    def note_training_batch(self, entity_spans: Tensor, record: Tensor) -> None:
        """Sets `record` once a training batch's gold entities (`(batch, n, 2)`) nest; it never goes back."""
        if not self.seen_here:
            self.seen_here = has_nested(entity_spans)
            if self.seen_here:
                record.fill_(True)

    def note_loaded_weights(self, module: nn.Module, state_dict: Dict[str, Tensor], prefix: str, *args) -> None:
        """
        A pre-hook of `module.load_state_dict`, which loads `state_dict` (`prefix`: the module's
        place in it): does it hold the record?
        """
        self.in_weights = prefix + NESTING_BUFFER in state_dict

    def agree(self, record: Tensor) -> None:
        """
        Distributed training, at the end of each training epoch: each worker read a share of the
        sentences, so the model was trained on nested entities if any worker saw some. Without
        this, the primary worker's share alone decided (and was saved).
        """
        if not is_distributed():
            return
        seen = torch.tensor(int(self.seen_here or bool(record)), device=record.device)
        dist.all_reduce(seen, op=dist.ReduceOp.MAX)
        record.fill_(bool(seen.item()))

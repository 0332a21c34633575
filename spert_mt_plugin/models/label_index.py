"""
The model's view of the label namespaces: entity and relation class indices.
"""

from typing import List

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary
from torch import nn

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.vocabulary import symmetric_relations

# Where the label namespaces come from, for the errors about empty ones.
_TYPES_SOURCE = (
    "the types come from the types file of the 'spert_types' vocabulary (its 'types_file'), "
    "or, without one, from the labels of the training data"
)


class LabelIndex(nn.Module):
    """
    Entity classes are the entity labels without `"NA"`, relation classes the relation labels,
    both in vocabulary order; a head's class index is a position in `entity_types` or
    `relation_types`. A module only so that its lookup tables follow the model's device; they are
    not saved with it.

    Raises `ConfigurationError` unless the vocabulary has at least one entity type and one
    relation type: the heads and the losses have no class to score otherwise.
    """

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__()
        entity_vocab = vocab.get_index_to_token_vocabulary(ENTITY_LABELS)
        if NO_ENTITY not in entity_vocab.values():
            raise ConfigurationError(f"The '{ENTITY_LABELS}' namespace must contain {NO_ENTITY!r}")
        self.entity_types: List[str] = [entity_vocab[i] for i in sorted(entity_vocab) if entity_vocab[i] != NO_ENTITY]
        if not self.entity_types:
            raise ConfigurationError(
                f"SpERT.MT needs at least one entity type, but the vocabulary's '{ENTITY_LABELS}' namespace "
                f"has none besides {NO_ENTITY!r}: {_TYPES_SOURCE}; add entity types under 'entities' of the types file"
            )
        class_of_label = torch.full((len(entity_vocab),), -1, dtype=torch.long)
        for class_index, label in enumerate(self.entity_types):
            class_of_label[vocab.get_token_index(label, ENTITY_LABELS)] = class_index
        self.register_buffer("_class_of_entity_label", class_of_label, persistent=False)

        relation_vocab = vocab.get_index_to_token_vocabulary(RELATION_LABELS)
        self.relation_types: List[str] = [relation_vocab[i] for i in sorted(relation_vocab)]
        if not self.relation_types:
            raise ConfigurationError(
                f"SpERT.MT needs at least one relation type, but the vocabulary's '{RELATION_LABELS}' namespace "
                f"is empty: {_TYPES_SOURCE}; add relation types under 'relations' of the types file"
            )
        self.symmetric = set(symmetric_relations(vocab))
        self.register_buffer(
            "symmetric_class",
            torch.tensor([label in self.symmetric for label in self.relation_types], dtype=torch.bool),
            persistent=False,
        )

    def entity_classes(self, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The entity class of each entity label id in `labels`; `-1` for `"NA"` and where `mask` is off."""
        return self._class_of_entity_label[labels].masked_fill(~mask, -1)

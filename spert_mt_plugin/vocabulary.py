"""
A vocabulary whose label namespaces come from a SpERT types file.
"""

from typing import Iterable, List, Optional

from allennlp.data import Instance, Vocabulary

from spert_mt_plugin.formats.types_file import EntityRelationTypes
from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS, SYMMETRIC_RELATION_LABELS


def symmetric_relations(vocab: Vocabulary) -> List[str]:
    """The relation types marked symmetric in the types file the vocabulary was built from."""
    return list(vocab.get_token_to_index_vocabulary(SYMMETRIC_RELATION_LABELS))


@Vocabulary.register("spert_types", constructor="from_types_file")
class TypesFileVocabulary(Vocabulary):
    """
    Registered as a `Vocabulary` with name "spert_types".

    Builds the label namespaces from a types file instead of counting the training data, so that
    (1) every type of the dataset has a label id even if the training split lacks it, (2) ids
    follow the file's order (`"NA"` first for entities), and (3) the symmetric relation types
    travel with the model archive (namespace `symmetric_relation_labels`). No pass over the data
    is needed: the transformer indexer fills its own namespace when it indexes.
    """

    @classmethod
    def from_types_file(cls, types_file: str, instances: Optional[Iterable[Instance]] = None, **kwargs) -> Vocabulary:
        types = EntityRelationTypes.from_file(types_file)
        return Vocabulary(
            tokens_to_add={
                ENTITY_LABELS: [NO_ENTITY] + types.entity_types,
                RELATION_LABELS: types.relation_types,
                SYMMETRIC_RELATION_LABELS: [t for t in types.relation_types if t in types.symmetric_relations],
            },
            non_padded_namespaces=["*tags", "*labels"],
        )

"""
Label fields whose indexing names the file and document of an unknown label.

AllenNLP's label fields look labels up when the data loader indexes a batch; a label missing from
the vocabulary (a typo in a training file read without a types file, or an evaluation file with a
type the model never saw) then surfaces as a bare `KeyError` from inside the loader. These fields
carry where their instance came from and raise a `DataError` saying so instead.
"""

from typing import List, Optional

from allennlp.data import Vocabulary
from allennlp.data.fields import AdjacencyField, SequenceLabelField

from spert_mt_plugin.formats.errors import DataError


def _index_labels(
    labels: List[str], namespace: str, vocab: Vocabulary, location: Optional[str], what: str
) -> List[int]:
    known = vocab.get_token_to_index_vocabulary(namespace)
    unknown = sorted({label for label in labels if label not in known})
    if unknown:
        where = location or "an input document"
        raise DataError(
            f"{where}: {what} type(s) {', '.join(map(repr, unknown))} are not in the vocabulary "
            f"(namespace {namespace!r}; known: {', '.join(known)}). Check the spelling, or add the "
            "type to the types file the vocabulary is built from."
        )
    return [known[label] for label in labels]


class CheckedSequenceLabelField(SequenceLabelField):
    """A `SequenceLabelField` of entity types; `location` names the document in errors."""

    def __init__(self, labels, sequence_field, label_namespace: str, location: Optional[str] = None) -> None:
        super().__init__(labels, sequence_field, label_namespace=label_namespace)
        self.location = location

    def index(self, vocab: Vocabulary) -> None:
        if not self._skip_indexing:
            self._indexed_labels = _index_labels(self.labels, self._label_namespace, vocab, self.location, "entity")


class CheckedAdjacencyField(AdjacencyField):
    """An `AdjacencyField` of relation types; `location` names the document in errors."""

    def __init__(
        self, indices, sequence_field, labels, label_namespace: str, padding_value: int, location: Optional[str] = None
    ) -> None:
        super().__init__(indices, sequence_field, labels, label_namespace=label_namespace, padding_value=padding_value)
        self.location = location

    def index(self, vocab: Vocabulary) -> None:
        if self.labels is not None:
            self._indexed_labels = _index_labels(self.labels, self._label_namespace, vocab, self.location, "relation")

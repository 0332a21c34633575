"""
Candidates through the heads: spans as c(s) (eq. 1-3) into the entity head, span pairs as the
relation input (eq. 15) into the relation head, dropout on each head's input. The loss, the entity
choice and the relation decoding all score their candidates here.
"""

from typing import NamedTuple

from torch import Tensor, nn

from spert_mt_plugin.modules.heads import Head, HeadOutput
from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.relation_representation import relation_representation
from spert_mt_plugin.modules.span_representation import entity_input, span_representation


class CandidateScorer(NamedTuple):
    """
    The model's parts that score candidates (the model owns them: their weights are its own).

    entity_logits : `bool`
        Whether the relation input holds the entity class scores p(s) of both arguments.
    pair_chunk_size : `int`
        Relation candidates go through the relation head this many at a time.
    """

    width_embedding: nn.Embedding
    dropout: nn.Dropout
    entity_head: Head
    relation_head: Head
    entity_logits: bool
    pair_chunk_size: int

    def span_vectors(self, table: RangeMaxTable, spans: Tensor) -> Tensor:
        """c(s) of `spans` `(batch, n, 2)`: pooled words and width embedding (eq. 1-3, without the [CLS])."""
        return span_representation(table, spans, self.width_embedding)

    def entities(self, span_vectors: Tensor, cls: Tensor) -> HeadOutput:
        """The entity head's output for spans of vectors `span_vectors`, with their sentence's [CLS] (eq. 3)."""
        return self.entity_head(self.dropout(entity_input(span_vectors, cls)))

    def pairs(
        self, table: RangeMaxTable, spans: Tensor, vectors: Tensor, type_scores: Tensor, pairs: Tensor
    ) -> HeadOutput:
        """The relation head's output for `pairs` (sentence, head, tail) of `spans`, given their c(s) and p(s)."""
        type_scores = type_scores if self.entity_logits else None
        outputs = []
        # Chunks bound the memory of sentences with many entities.
        for chunk in pairs.split(self.pair_chunk_size):
            inputs = relation_representation(table, spans, vectors, type_scores, chunk)
            outputs.append(self.relation_head(self.dropout(inputs)))
        return HeadOutput.cat(outputs)

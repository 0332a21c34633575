"""
The entities relations are predicted among: the candidate spans the entity head accepts
(`predicted_entities`), or the user's own (`given_entities`).
"""

from typing import NamedTuple

import torch
from torch import Tensor

from spert_mt_plugin.models.candidate_scoring import CandidateScorer
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.modules.heads import Head, HeadOutput
from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.sampling import pack_to_front, take
from spert_mt_plugin.modules.span_overlap import best_non_overlapping


class Entities(NamedTuple):
    """
    The entities of a batch, valid ones at the front of each row: spans `(batch, n, 2)`, c(s),
    the entity logits p(s) the relation head reads, class index, score and `valid` `(batch, n)`.
    """

    spans: Tensor
    vectors: Tensor
    type_scores: Tensor
    classes: Tensor
    scores: Tensor
    valid: Tensor


def predicted_entities(
    entity_head: Head, spans: Tensor, span_mask: Tensor, span_vectors: Tensor, entity_output: HeadOutput, flat: bool
) -> Entities:
    """
    The candidate `spans` the entity head accepts (eq. 18; `entity_output` is its output for all of
    them), without overlaps when decoding `flat`: the best-scoring ones that share no word.
    """
    entity_class, entity_score = entity_head.decide(entity_output)
    index, is_entity = pack_to_front(span_mask & (entity_class >= 0))
    if flat:
        kept = best_non_overlapping(take(spans, index), take(entity_score, index), is_entity)
        repacked, is_entity = pack_to_front(kept)
        index = index.gather(1, repacked)
    return Entities(
        take(spans, index),
        take(span_vectors, index),
        take(entity_head.type_scores(entity_output), index),
        take(entity_class, index),
        take(entity_score, index),
        is_entity,
    )


def given_entities(
    scorer: CandidateScorer,
    labels: LabelIndex,
    table: RangeMaxTable,
    cls: Tensor,
    given_spans: Tensor,
    given_labels: Tensor,
) -> Entities:
    """
    The user's entities (`given_spans`, `-1` padding, and their label ids, `"NA"` where no type
    was given) with the model's own view of them: c(s), the entity logits p(s) the relation head
    reads, and the score of their type (the given one, else the best).
    """
    span_vectors = scorer.span_vectors(table, given_spans)
    output = scorer.entities(span_vectors, cls)
    class_scores = scorer.entity_head.class_scores(output)
    given_class = labels.entity_classes(given_labels, given_spans[..., 0] >= 0)
    entity_class = torch.where(given_class >= 0, given_class, class_scores.argmax(dim=-1))
    entity_score = class_scores.gather(-1, entity_class.unsqueeze(-1)).squeeze(-1)
    return Entities(
        given_spans,
        span_vectors,
        scorer.entity_head.type_scores(output),
        entity_class,
        entity_score,
        given_spans[..., 0] >= 0,
    )

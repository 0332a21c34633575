"""
The model's loss L = L1 + L2 (eq. 17): in training over sampled candidates, in validation over
every candidate, so that the validation loss is the same at each evaluation.
"""

from typing import NamedTuple, Optional

import torch
from torch import Tensor

from spert_mt_plugin.models.candidate_scoring import CandidateScorer
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.modules.heads import HeadOutput
from spert_mt_plugin.modules.losses import joint_loss, reduce_loss
from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.sampling import entity_candidates, pack_to_front, relation_candidates, take


class ExtractionLoss(NamedTuple):
    """
    # Parameters

    scorer : `CandidateScorer`
        Scores the candidates; its heads own the per-candidate losses.
    labels : `LabelIndex`
        The entity classes of the span labels and the symmetric relation classes.
    negative_entities, negative_relations : `int`
        Most negative spans / pairs per sentence in the training loss (re-sampled at every call).
    reduction : `str`
        `"mean"` or `"sum"` over the candidates of the batch (eq. 5 and 9 sum).
    """

    scorer: CandidateScorer
    labels: LabelIndex
    negative_entities: int
    negative_relations: int
    reduction: str

    def training(
        self,
        table: RangeMaxTable,
        cls: Tensor,
        spans: Tensor,
        span_mask: Tensor,
        span_labels: Tensor,
        span_max_iou: Optional[Tensor],
        entity_spans: Optional[Tensor],
        relations: Optional[Tensor],
    ) -> Tensor:
        """
        L over sampled candidates. Only what enters the loss is scored, as in SpERT: the positive
        and sampled negative spans, packed to the front of each row, and the gold entities (the
        relation candidates), in one pass through the entity head.
        """
        entity_head = self.scorer.entity_head
        classes = self.labels.entity_classes(span_labels, span_mask)
        index, chosen = pack_to_front(entity_candidates(classes, span_mask, self.negative_entities))
        count = index.size(1)
        with_relations = entity_spans is not None and relations is not None
        all_spans = torch.cat([take(spans, index), entity_spans], dim=1) if with_relations else take(spans, index)
        span_vectors = self.scorer.span_vectors(table, all_spans)
        output = self.scorer.entities(span_vectors, cls)
        chosen_classes = take(classes, index).masked_fill(~chosen, -1)
        chosen_iou = take(span_max_iou, index) if span_max_iou is not None else None
        loss = self.reduce(entity_head.loss(output.first(count), chosen_classes, chosen_iou), chosen)
        if with_relations:
            gold_scores = entity_head.type_scores(output)[:, count:]
            relation_loss = self.relation_loss(
                table, entity_spans, relations, span_vectors[:, count:], gold_scores, self.negative_relations
            )
            loss = joint_loss(loss, relation_loss)
        return loss

    def validation(
        self,
        table: RangeMaxTable,
        cls: Tensor,
        span_mask: Tensor,
        entity_output: HeadOutput,
        span_labels: Tensor,
        span_max_iou: Optional[Tensor],
        entity_spans: Optional[Tensor],
        relations: Optional[Tensor],
    ) -> Tensor:
        """
        L over every candidate span (`entity_output`, the entity head's output for all of them)
        and every pair of gold entities, without sampling.
        """
        entity_head = self.scorer.entity_head
        classes = self.labels.entity_classes(span_labels, span_mask)
        loss = self.reduce(entity_head.loss(entity_output, classes, span_max_iou), span_mask)
        if entity_spans is not None and relations is not None:
            gold_vectors = self.scorer.span_vectors(table, entity_spans)
            gold_scores = entity_head.type_scores(self.scorer.entities(gold_vectors, cls))
            relation_loss = self.relation_loss(table, entity_spans, relations, gold_vectors, gold_scores)
            loss = joint_loss(loss, relation_loss)
        return loss

    def reduce(self, losses: Tensor, selected: Tensor) -> Tensor:
        """The sums of eq. 5 and 9 (or means) over the `selected` candidates."""
        return reduce_loss(losses, selected, self.reduction)

    def relation_loss(
        self,
        table: RangeMaxTable,
        entity_spans: Tensor,
        relations: Tensor,
        span_vectors: Tensor,
        type_scores: Tensor,
        negatives: Optional[int] = None,
    ) -> Tensor:
        """L2 over pairs of gold entities, at most `negatives` sampled negatives per sentence (`None`: all)."""
        labels, selected = relation_candidates(relations, entity_spans, self.labels.symmetric_class, negatives)
        pairs = selected.nonzero()
        if pairs.size(0) == 0:
            return span_vectors.new_zeros(())
        output = self.scorer.pairs(table, entity_spans, span_vectors, type_scores, pairs)
        losses = self.scorer.relation_head.loss(output, labels[pairs[:, 0], pairs[:, 1], pairs[:, 2]])
        return self.reduce(losses, torch.ones_like(losses))

"""`models.extraction_loss`: L = L1 + L2 (eq. 17) in training and in validation."""

from types import SimpleNamespace

import pytest
import torch

from spert_mt_plugin.models.extraction_loss import ExtractionLoss
from spert_mt_plugin.modules.heads import HeadOutput


class CountingHead:
    """A head whose loss of a candidate is its gold class + 2 (NA: 1), so sums can be read back."""

    def loss(self, output, classes, max_iou=None):
        return (classes + 2).float()

    def type_scores(self, output):
        return output.scores


def loss(reduction, negative_entities=10, negative_relations=10):
    scorer = SimpleNamespace(
        span_vectors=lambda table, spans: spans.float(),
        entities=lambda vectors, cls: HeadOutput(None, vectors),
        pairs=lambda table, spans, vectors, type_scores, pairs: HeadOutput(None, pairs.float()),
        entity_head=CountingHead(),
        relation_head=CountingHead(),
    )
    labels = SimpleNamespace(
        entity_classes=lambda span_labels, mask: (span_labels - 1).masked_fill(~mask, -1),
        symmetric_class=torch.tensor([False, False]),
    )
    return ExtractionLoss(scorer, labels, negative_entities, negative_relations, reduction)


# One sentence, three candidate spans and a padding one; label ids 1, 0 (NA), 2 -> classes 0, NA, 1.
SPANS = torch.tensor([[[0, 0], [1, 1], [0, 1], [-1, -1]]])
MASK = SPANS[..., 0] >= 0
SPAN_LABELS = torch.tensor([[1, 0, 2, 0]])
# Two gold entities, entity 0 -> 1 of relation class 1.
ENTITY_SPANS = torch.tensor([[[0, 0], [0, 1]]])
RELATIONS = torch.tensor([[[-1, 1], [-1, -1]]])


@pytest.mark.parametrize("reduction, entity_loss, relation_loss", [("sum", 6.0, 4.0), ("mean", 2.0, 2.0)])
def test_the_validation_loss_is_the_entity_loss_plus_the_relation_loss_over_every_candidate(
    reduction, entity_loss, relation_loss
):
    # L1: classes 0, NA, 1 lose 2, 1 and 3 (the padding span none). L2: the gold pair (0, 1)
    # loses 1 + 2 = 3, the unrelated (1, 0) 1: every pair of gold entities, none sampled.
    model_loss = loss(reduction)
    output = HeadOutput(None, SPANS.float())
    entities_only = model_loss.validation(None, None, MASK, output, SPAN_LABELS, None, None, None)
    assert entities_only.item() == entity_loss
    joint = model_loss.validation(None, None, MASK, output, SPAN_LABELS, None, ENTITY_SPANS, RELATIONS)
    assert joint.item() == entity_loss + relation_loss


def test_training_scores_the_positives_and_at_most_the_sampled_negatives():
    # No negative span, no negative pair: L1 over the two entities (2 + 3), L2 over the gold pair (3).
    model_loss = loss("sum", negative_entities=0, negative_relations=0)
    training = model_loss.training(None, None, SPANS, MASK, SPAN_LABELS, None, ENTITY_SPANS, RELATIONS)
    assert training.item() == 5.0 + 3.0
    # Every negative: as in validation.
    every = loss("sum").training(None, None, SPANS, MASK, SPAN_LABELS, None, ENTITY_SPANS, RELATIONS)
    assert every.item() == 6.0 + 4.0


def test_a_sentence_without_relation_candidates_adds_nothing():
    one_entity = torch.tensor([[[0, 0]]])
    relation_loss = loss("mean").relation_loss(None, one_entity, torch.tensor([[[-1]]]), one_entity.float(), None)
    assert relation_loss.item() == 0.0

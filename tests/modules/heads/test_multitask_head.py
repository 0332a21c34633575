import math

import pytest
import torch

from spert_mt_plugin.modules.heads import HeadOutput, HeadSettings, MultiTaskHead
from spert_mt_plugin.modules.losses import MultiTaskLoss, reduce_loss

LN2 = math.log(2)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_class_scores_are_a_bias_free_dot_product():
    # Eq. 6: score_c = s^T W[:, c]; the identification logit has a bias.
    head = MultiTaskHead(3, 2)
    with torch.no_grad():
        head.classification.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]]))
        head.identification.weight.fill_(0.5)
        head.identification.bias.fill_(0.25)
    output = head(torch.tensor([[1.0, 2.0, 3.0]]))
    assert output.scores.tolist() == [[7.0, 1.0]]  # 1 + 6, -2 + 3
    assert output.identification.tolist() == [3.25]  # 0.5 * 6 + 0.25
    assert head.classification.bias is None
    assert MultiTaskHead(3, 2, HeadSettings(class_bias=True)).classification.bias is not None


# Two candidates with identification logit 0 (p = 0.5): a positive of class 0 scoring
# [3.0, 1.0] and a negative scoring [0.2, -0.5].
OUTPUT = HeadOutput(torch.zeros(2), torch.tensor([[3.0, 1.0], [0.2, -0.5]]))
CLASSES = torch.tensor([0, -1])
MAX_IOU = torch.tensor([1.0, 0.5])
# Ranking (eq. 7-8, m+ = 2.5, m- = 0.5, gamma = 2):
# positive: L+ = log(1 + e^(2 (2.5 - 3))) plus L- for its best wrong class (1.0); negative: L- for its best class (0.2).
RANKING = [softplus(2 * (2.5 - 3.0)) + softplus(2 * (0.5 + 1.0)), softplus(2 * (0.5 + 0.2))]


def test_multitask_loss_weighs_identification_by_alpha_and_ranking_by_beta():
    # Eq. 10 with alpha = 2, beta = 0.5; plain BCE (eq. 4): -log 0.5 = ln 2 for both.
    head = MultiTaskHead(1, 2, loss=MultiTaskLoss(alpha=2.0, beta=0.5))
    loss = head.loss(OUTPUT, CLASSES, MAX_IOU)  # not IoU-scaled: max_iou is ignored
    expected = [2.0 * LN2 + 0.5 * RANKING[0], 2.0 * LN2 + 0.5 * RANKING[1]]
    assert expected == pytest.approx([3.0672189, 2.1965031], abs=1e-6)
    assert loss.tolist() == pytest.approx(expected, abs=1e-6)
    # alpha * Loss1 + beta * Loss2 with Loss1 and Loss2 summed over the candidates (eq. 5, 9)
    total = reduce_loss(loss, torch.ones(2, dtype=torch.bool), "sum")
    assert total.item() == pytest.approx(2.0 * (2 * LN2) + 0.5 * sum(RANKING), abs=1e-5)


def test_iou_scaled_multitask_loss():
    # Eq. 10 with the IoU-scaled identification loss (eq. 13, delta = 0.25):
    # positive (1 - delta) ln 2, negative of ENIoU 0.5: delta (1 + 0.5) ln 2.
    head = MultiTaskHead(1, 2, loss=MultiTaskLoss(alpha=2.0, beta=0.5), iou_scaled=True)
    expected = [2.0 * 0.75 * LN2 + 0.5 * RANKING[0], 2.0 * 0.25 * 1.5 * LN2 + 0.5 * RANKING[1]]
    assert head.loss(OUTPUT, CLASSES, MAX_IOU).tolist() == pytest.approx(expected, abs=1e-6)
    # Without ENIoU (relations) the identification loss is plain BCE.
    assert head.loss(OUTPUT, CLASSES).tolist() == pytest.approx([2.0 * LN2 + 0.5 * r for r in RANKING], abs=1e-6)


def test_entity_loss_by_hand_with_and_without_negatives():
    # alpha = beta = 1, IoU-scaled; a positive, a hard negative (ENIoU 0.5) and an easy one (0).
    head = MultiTaskHead(1, 3, iou_scaled=True)
    output = HeadOutput(torch.zeros(1, 3), torch.tensor([[[3.0, 1.0, -1.0], [0.2, -0.5, 0.1], [-1.0, -1.0, -1.0]]]))
    classes = torch.tensor([[0, -1, -1]])
    max_iou = torch.tensor([[1.0, 0.5, 0.0]])
    positive = 0.75 * LN2 + softplus(2 * (2.5 - 3.0)) + softplus(2 * (0.5 + 1.0))
    hard_negative = 0.25 * 1.5 * LN2 + softplus(2 * (0.5 + 0.2))
    easy_negative = 0.25 * 1.0 * LN2 + softplus(2 * (0.5 - 1.0))
    losses = head.loss(output, classes, max_iou)
    assert losses[0].tolist() == pytest.approx([positive, hard_negative, easy_negative], abs=1e-5)
    assert reduce_loss(losses, classes >= 0, "mean").item() == pytest.approx(positive, abs=1e-5)
    everything = torch.ones(1, 3, dtype=torch.bool)
    mean = (positive + hard_negative + easy_negative) / 3
    assert reduce_loss(losses, everything, "mean").item() == pytest.approx(mean, abs=1e-5)
    # -EIL: plain BCE, the same for hard and easy negatives
    plain = MultiTaskHead(1, 3).loss(output, classes, max_iou)
    expected = 3 * LN2 + softplus(-1.0) + softplus(3.0) + softplus(1.4) + softplus(-1.0)
    assert reduce_loss(plain, everything, "sum").item() == pytest.approx(expected, abs=1e-5)


def test_decision_takes_the_best_class_when_it_reaches_theta():
    # Eq. 18
    head = MultiTaskHead(1, 3, threshold=0.85)
    scores = torch.tensor([[0.9, 0.1, -1.0], [0.5, 0.84, 0.2], [0.85, 2.0, 1.0]])
    classes, best = head.decide(HeadOutput(None, scores))
    assert classes.tolist() == [0, -1, 1]  # 0.84 < theta -> NA; ties to theta are kept
    assert best.tolist() == pytest.approx([0.9, 0.84, 2.0])
    candidate, label, score = head.decisions(HeadOutput(None, scores))
    assert candidate.tolist() == [0, 2] and label.tolist() == [0, 1]
    assert score.tolist() == pytest.approx([0.9, 2.0])


def test_setting_the_threshold_changes_the_decisions():
    head = MultiTaskHead(1, 3)
    assert head.threshold == 0.85
    scores = torch.tensor([[0.9, 0.1, -1.0], [0.5, 0.84, 0.2], [0.85, 2.0, 1.0]])
    head.threshold = 0.5
    assert head.decide(HeadOutput(None, scores))[0].tolist() == [0, 1, 1]
    head.threshold = 1.0
    assert head.decide(HeadOutput(None, scores))[0].tolist() == [-1, -1, 1]


def test_type_scores_are_the_class_scores():
    scores = torch.tensor([[0.9, 0.1, -1.0]])
    assert MultiTaskHead(1, 3).type_scores(HeadOutput(None, scores)) is scores

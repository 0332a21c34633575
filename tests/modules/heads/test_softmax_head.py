import math

import pytest
import torch

from spert_mt_plugin.modules.heads import HeadOutput, SoftmaxHead

LOGITS = torch.tensor([[3.0, 1.0, 0.0, 0.0], [0.0, 0.5, 4.0, 0.0]])  # column 0 is NA


def test_softmax_decision_picks_na_when_it_wins():
    classes, probability = SoftmaxHead(1, 3).decide(HeadOutput(None, LOGITS))
    assert classes.tolist() == [-1, 1]
    z = 1 + math.exp(0.5) + math.exp(4.0) + 1
    assert probability.tolist() == pytest.approx([math.exp(3.0) / (math.exp(3.0) + math.e + 2), math.exp(4.0) / z])


def test_type_scores_leave_out_the_na_column():
    assert SoftmaxHead(1, 3).type_scores(HeadOutput(None, LOGITS)).tolist() == [[1.0, 0.0, 0.0], [0.5, 4.0, 0.0]]


def test_softmax_loss_is_the_cross_entropy_over_na_and_the_classes():
    head = SoftmaxHead(1, 3)
    assert head(torch.ones(2, 1)).identification is None
    loss = head.loss(HeadOutput(None, LOGITS), torch.tensor([-1, 1]), max_iou=torch.ones(2))
    z0 = math.exp(3.0) + math.e + 2
    z1 = 1 + math.exp(0.5) + math.exp(4.0) + 1
    assert loss.tolist() == pytest.approx([math.log(z0) - 3.0, math.log(z1) - 4.0], abs=1e-6)


def test_threshold_zero_is_the_plain_argmax():
    head = SoftmaxHead(1, 3)
    assert head.threshold == 0.0
    classes, probability = head.decide(HeadOutput(None, LOGITS))
    best_probability, best = LOGITS.softmax(dim=-1).max(dim=-1)
    assert torch.equal(classes, best - 1) and torch.equal(probability, best_probability)


def test_a_class_below_the_threshold_becomes_na_with_its_probability_kept():
    # row 1 takes class 1 with probability e^4 / (1 + e^0.5 + e^4 + 1) = 0.9374; row 0 is NA anyway
    head = SoftmaxHead(1, 3, threshold=0.93)
    assert head.decide(HeadOutput(None, LOGITS))[0].tolist() == [-1, 1]
    head.threshold = 0.94
    classes, probability = head.decide(HeadOutput(None, LOGITS))
    assert classes.tolist() == [-1, -1]
    z = 1 + math.exp(0.5) + math.exp(4.0) + 1
    assert probability[1].item() == pytest.approx(math.exp(4.0) / z)

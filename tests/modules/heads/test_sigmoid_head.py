import math

import pytest
import torch

from spert_mt_plugin.modules.heads import HeadOutput, SigmoidHead

# sigmoid(0.5) = 0.622, sigmoid(-0.4) = 0.401, sigmoid(-0.5) = 0.378
LOGITS = torch.tensor([[0.5, -0.4, -0.5], [-0.5, -0.5, -0.5]])


def test_a_pair_takes_every_type_that_reaches_the_threshold():
    candidate, label, probability = SigmoidHead(1, 3, threshold=0.4).decisions(HeadOutput(None, LOGITS))
    assert candidate.tolist() == [0, 0] and label.tolist() == [0, 1]
    assert probability.tolist() == pytest.approx([0.62246, 0.40131], abs=1e-5)
    with pytest.raises(NotImplementedError, match="decisions"):
        SigmoidHead(1, 3).decide(HeadOutput(None, LOGITS))


def test_sigmoid_loss_is_one_binary_cross_entropy_per_type():
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    # row 0 of type 0: -log p0 = softplus(-0.5), -log(1 - p1) = softplus(-0.4), -log(1 - p2) = softplus(-0.5)
    first = [softplus(-0.5), softplus(-0.4), softplus(-0.5)]
    second = [softplus(-0.5)] * 3  # no relation: an all-zero target
    classes = torch.tensor([0, -1])
    summed = SigmoidHead(1, 3, over_types="sum").loss(HeadOutput(None, LOGITS), classes)
    assert summed.tolist() == pytest.approx([sum(first), sum(second)], abs=1e-6)
    mean = SigmoidHead(1, 3).loss(HeadOutput(None, LOGITS), classes)
    assert mean.tolist() == pytest.approx([sum(first) / 3, sum(second) / 3], abs=1e-6)


def test_setting_the_threshold_changes_the_decisions():
    head = SigmoidHead(1, 3)
    head.threshold = 0.39
    candidate, label, _ = head.decisions(HeadOutput(None, LOGITS))
    # 0.622 and 0.401 of row 0; 0.378 is below 0.39
    assert candidate.tolist() == [0, 0] and label.tolist() == [0, 1]
    head.threshold = 0.5
    candidate, label, _ = head.decisions(HeadOutput(None, LOGITS))
    assert candidate.tolist() == [0] and label.tolist() == [0]

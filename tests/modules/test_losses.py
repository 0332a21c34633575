import math

import pytest
import torch
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.modules.losses import (
    MultiTaskLoss,
    binary_cross_entropy,
    iou_scaled_bce,
    joint_loss,
    pairwise_ranking_loss,
    reduce_loss,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
)


def test_ranking_loss_of_a_positive_uses_the_best_wrong_class():
    # gold class 0 scores 3.0; the best wrong class is class 1 (1.0), not class 2 (-1.0).
    # L+ = log(1 + e^(2 (2.5 - 3.0))) = log(1 + e^-1) = 0.3132617
    # L- = log(1 + e^(2 (0.5 + 1.0))) = log(1 + e^3)  = 3.0485874
    loss = pairwise_ranking_loss(torch.tensor([[3.0, 1.0, -1.0]]), torch.tensor([0]))
    assert loss.item() == pytest.approx(0.3132617 + 3.0485874, abs=1e-6)


def test_ranking_loss_ignores_a_high_gold_score_when_choosing_the_wrong_class():
    # gold class 2 has the highest score; the wrong class must be class 0 (0.5).
    # L+ = log(1 + e^(2 (2.5 - 4))) = log(1 + e^-3) = 0.0485874;
    # L- = log(1 + e^(2 (0.5 + 0.5))) = log(1 + e^2) = 2.1269280
    loss = pairwise_ranking_loss(torch.tensor([[0.5, -2.0, 4.0]]), torch.tensor([2]))
    assert loss.item() == pytest.approx(0.0485874 + 2.1269280, abs=1e-6)


def test_ranking_loss_of_a_negative_only_pushes_down_the_best_class():
    # NA: only L- with the best class (0.2): log(1 + e^(2 (0.5 + 0.2))) = log(1 + e^1.4) = 1.6204174
    loss = pairwise_ranking_loss(torch.tensor([[0.2, -0.5, 0.1]]), torch.tensor([-1]))
    assert loss.item() == pytest.approx(1.6204174, abs=1e-6)


def test_ranking_loss_margins_and_scale_are_parameters():
    # m+ = 1, m- = 0, gamma = 1; gold 0 scores 1.0, wrong class scores 0.0:
    # L+ = log(1 + e^0) = log 2; L- = log(1 + e^0) = log 2
    loss = pairwise_ranking_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([0]), 1.0, 0.0, 1.0)
    assert loss.item() == pytest.approx(2 * math.log(2), abs=1e-6)


def test_ranking_loss_with_a_single_class_has_no_wrong_class_term():
    # L+ = log(1 + e^(2 (2.5 - 2.5))) = log 2, and no wrong class exists.
    loss = pairwise_ranking_loss(torch.tensor([[2.5]]), torch.tensor([0]))
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)


def test_iou_scaled_bce_by_hand():
    # logit 0 -> p = 0.5, -log 0.5 = 0.6931472; delta = 0.25
    logits = torch.zeros(3)
    targets = torch.tensor([1, 0, 0])
    max_iou = torch.tensor([1.0, 0.5, 0.0])
    loss = iou_scaled_bce(logits, targets, max_iou, delta=0.25)
    expected = [
        0.75 * 0.6931472,  # positive: (1 - delta) (-log p)
        0.25 * 1.5 * 0.6931472,  # hard negative, ENIoU 0.5: delta (1 + 0.5) (-log(1 - p))
        0.25 * 1.0 * 0.6931472,  # negative far from any entity
    ]
    assert loss.tolist() == pytest.approx(expected, abs=1e-6)


def test_iou_scaled_bce_weighs_hard_negatives_more_and_is_stable_for_large_logits():
    loss = iou_scaled_bce(torch.tensor([2.0, 2.0, 80.0]), torch.tensor([0, 0, 0]), torch.tensor([0.0, 0.9, 0.0]))
    assert loss[1] > loss[0]
    # -0.25 * log(1 - sigmoid(80)) = 0.25 * 80 (softplus), finite
    assert loss[2].item() == pytest.approx(20.0, rel=1e-4)


def test_plain_bce_by_hand():
    # logit ln 3 -> p = 0.75: positive -log 0.75 = 0.2876821, negative -log 0.25 = 1.3862944
    loss = binary_cross_entropy(torch.tensor([math.log(3), math.log(3)]), torch.tensor([1, 0]))
    assert loss.tolist() == pytest.approx([0.2876821, 1.3862944], abs=1e-6)


def test_reduce_loss_mean_and_sum_over_selected_candidates():
    losses = torch.tensor([1.0, 2.0, 4.0])
    mask = torch.tensor([True, False, True])
    assert reduce_loss(losses, mask, "mean").item() == pytest.approx(2.5)
    assert reduce_loss(losses, mask, "sum").item() == pytest.approx(5.0)
    assert reduce_loss(losses, torch.zeros(3, dtype=torch.bool), "mean").item() == 0.0


def test_multitask_loss_ranking_uses_its_margins():
    weights = MultiTaskLoss(margin_positive=1.0, margin_negative=0.0, scale=1.0)
    loss = weights.ranking(torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    assert loss.item() == pytest.approx(2 * math.log(2), abs=1e-6)


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"alpha": 0.0, "beta": 0.0}, "not both 0"),
        ({"scale": 0.0}, "scale"),
        ({"iou_delta": 0.0}, "iou_delta"),
        ({"iou_delta": 1.0}, "iou_delta"),
    ],
)
def test_multitask_loss_refuses_degenerate_settings(settings, named):
    with pytest.raises(ConfigurationError, match=named):
        MultiTaskLoss(**settings)


def test_multitask_loss_accepts_one_zero_weight():
    # An ablation may switch one part of eq. 10 off.
    assert MultiTaskLoss(alpha=0.0).beta == 1.0


def test_softmax_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # column 0: "no class"
    labels = torch.tensor([-1, 1])
    log_z0 = math.log(math.exp(2) + 1 + math.exp(1))
    log_z1 = math.log(2 + math.e)
    expected = [log_z0 - 2.0, log_z1 - 0.0]
    assert softmax_cross_entropy(logits, labels).tolist() == pytest.approx(expected, abs=1e-6)


def test_sigmoid_cross_entropy_by_hand_mean_and_sum_over_types():
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    labels = torch.tensor([1, -1])  # type 1; no relation (all-zero target)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    first = [softplus(0.0), softplus(-2.0)]  # -log(1 - p0), -log p1
    second = [softplus(1.0), softplus(-1.0)]  # -log(1 - p0), -log(1 - p1)
    assert sigmoid_cross_entropy(logits, labels, "sum").tolist() == pytest.approx([sum(first), sum(second)], abs=1e-6)
    assert sigmoid_cross_entropy(logits, labels, "mean").tolist() == pytest.approx(
        [sum(first) / 2, sum(second) / 2], abs=1e-6
    )


def test_joint_loss_is_the_unweighted_sum():
    entity_loss = torch.tensor(1.25, requires_grad=True)
    relation_loss = torch.tensor(0.5, requires_grad=True)
    loss = joint_loss(entity_loss, relation_loss)
    assert loss.item() == 1.75
    loss.backward()
    # both heads learn from it at full weight
    assert entity_loss.grad.item() == 1.0 and relation_loss.grad.item() == 1.0

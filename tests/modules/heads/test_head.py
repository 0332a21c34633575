import pytest
import torch
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.modules.heads.head import Head, HeadOutput, HeadSettings


def test_init_std_must_be_positive():
    with pytest.raises(ConfigurationError, match=r"^init_std must be positive, got 0$"):
        HeadSettings(init_std=0)


def test_first_and_cat_keep_identification_and_scores_together():
    scores = torch.arange(12.0).view(2, 3, 2)
    first = HeadOutput(torch.arange(6.0).view(2, 3), scores).first(2)
    assert first.identification.tolist() == [[0.0, 1.0], [3.0, 4.0]]
    assert first.scores.tolist() == [[[0.0, 1.0], [2.0, 3.0]], [[6.0, 7.0], [8.0, 9.0]]]
    assert HeadOutput(None, scores).first(1).identification is None
    joined = HeadOutput.cat(
        [
            HeadOutput(torch.tensor([1.0]), torch.tensor([[1.0, 2.0]])),
            HeadOutput(torch.tensor([3.0, 4.0]), torch.tensor([[5.0, 6.0], [7.0, 8.0]])),
        ]
    )
    assert joined.identification.tolist() == [1.0, 3.0, 4.0]
    assert joined.scores.tolist() == [[1.0, 2.0], [5.0, 6.0], [7.0, 8.0]]


class FixedDecisions(Head):
    threshold = 0.0

    def decide(self, output):
        return torch.tensor([-1, 2, 0, -1]), torch.tensor([0.1, 0.9, 0.5, 0.3])


def test_decisions_are_the_candidates_given_a_class():
    candidate, label, score = FixedDecisions().decisions(HeadOutput(None, torch.zeros(4, 3)))
    assert candidate.tolist() == [1, 2]
    assert label.tolist() == [2, 0]
    assert score.tolist() == pytest.approx([0.9, 0.5])
    # A head that may give a candidate several classes has no single decision to offer.
    with pytest.raises(NotImplementedError, match="^Head may give a candidate several classes: use `decisions`$"):
        Head().decide(HeadOutput(None, torch.zeros(4, 3)))

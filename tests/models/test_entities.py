"""`models.entities`: the entities relations are predicted among, the model's or the user's."""

from types import SimpleNamespace

import torch

from spert_mt_plugin.models.entities import given_entities, predicted_entities
from spert_mt_plugin.modules.heads import HeadOutput

# One sentence, five candidates: words 0, 0-1, 1, 3 and a padding span.
SPANS = torch.tensor([[[0, 0], [0, 1], [1, 1], [3, 3], [-1, -1]]])
MASK = SPANS[..., 0] >= 0
VECTORS = torch.arange(5.0).view(1, 5, 1)  # c(s): the candidate's position
OUTPUT = HeadOutput(None, torch.arange(10.0).view(1, 5, 2))  # p(s): [2i, 2i + 1]


class DecidedHead:
    """An entity head whose decisions are given: class (-1: NA) and score of each candidate."""

    def __init__(self, classes, scores):
        self.classes, self.scores = torch.tensor([classes]), torch.tensor([scores])

    def decide(self, output):
        return self.classes, self.scores

    def type_scores(self, output):
        return output.scores

    def class_scores(self, output):
        return output.scores.softmax(dim=-1)


# Accepted: 0, 0-1 and 3 (2 is NA; the padding span's decision does not count).
HEAD = DecidedHead([0, 1, -1, 1, 0], [0.5, 0.75, 0.125, 0.625, 2.0])


def test_nested_decoding_keeps_every_accepted_span():
    entities = predicted_entities(HEAD, SPANS, MASK, VECTORS, OUTPUT, flat=False)
    assert entities.valid.tolist() == [[True, True, True]]
    assert entities.spans.tolist() == [[[0, 0], [0, 1], [3, 3]]]
    assert entities.classes.tolist() == [[0, 1, 1]]
    assert entities.scores.tolist() == [[0.5, 0.75, 0.625]]
    assert entities.vectors.tolist() == [[[0.0], [1.0], [3.0]]]
    assert entities.type_scores.tolist() == [[[0.0, 1.0], [2.0, 3.0], [6.0, 7.0]]]


def test_flat_decoding_drops_the_lower_scored_of_two_overlapping_spans():
    # 0 and 0-1 share word 0: 0-1 (0.75) beats 0 (0.5).
    entities = predicted_entities(HEAD, SPANS, MASK, VECTORS, OUTPUT, flat=True)
    valid = entities.valid[0]
    assert valid.tolist()[:2] == [True, True] and not valid[2:].any()
    assert entities.spans[0, :2].tolist() == [[0, 1], [3, 3]]
    assert entities.scores[0, :2].tolist() == [0.75, 0.625]
    assert entities.vectors[0, :2].tolist() == [[1.0], [3.0]]


def test_given_entities_keep_the_given_type_else_take_the_best_with_its_score():
    given_spans = torch.tensor([[[0, 1], [3, 3], [-1, -1]]])
    # The first names class 0; the second names none (-1 here: "NA"); the third is padding.
    scorer = SimpleNamespace(
        span_vectors=lambda table, spans: spans[..., :1].float(),
        entities=lambda vectors, cls: HeadOutput(None, torch.tensor([[[0.0, 2.0], [3.0, 1.0], [0.0, 0.0]]])),
        entity_head=HEAD,
    )
    labels = SimpleNamespace(entity_classes=lambda given, mask: given.masked_fill(~mask, -1))
    entities = given_entities(scorer, labels, None, None, given_spans, torch.tensor([[0, -1, 0]]))
    assert entities.spans is given_spans
    assert entities.valid.tolist() == [[True, True, False]]
    # Class 0 as given, though class 1 scores better; the second takes its best, class 0.
    assert entities.classes[0, :2].tolist() == [0, 0]
    softmax = torch.tensor([[0.0, 2.0], [3.0, 1.0]]).softmax(dim=-1)
    assert entities.scores[0, :2].tolist() == [softmax[0, 0].item(), softmax[1, 0].item()]
    assert entities.type_scores[0, 0].tolist() == [0.0, 2.0]

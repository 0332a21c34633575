"""Eq. 11 and 12: the IoU of spans and each candidate's best IoU with a gold entity, by hand."""

import numpy
import pytest

from spert_mt_plugin.dataset_readers.span_iou import max_iou_with_gold, span_iou


def test_iou_of_two_spans_is_shared_words_over_covered_words():
    spans = numpy.array([[0, 3], [0, 1], [2, 2]])
    others = numpy.array([[2, 5], [0, 3]])
    expected = numpy.array(
        [
            [2 / 6, 1.0],  # words 2-3 shared of 0-5; the same span
            [0.0, 2 / 4],  # no shared word; words 0-1 of 0-3
            [1 / 4, 1 / 4],  # word 2 of 2-5; word 2 of 0-3
        ]
    )
    assert span_iou(spans, others) == pytest.approx(expected)


def test_eniou_takes_the_best_gold_entity_and_is_zero_without_entities():
    spans = numpy.array([[2, 3], [0, 0]])
    gold = numpy.array([[0, 3], [2, 4]])
    iou = max_iou_with_gold(spans, gold)
    assert iou.dtype == numpy.float32
    assert iou.tolist() == pytest.approx([2 / 3, 1 / 4])
    assert max_iou_with_gold(spans, numpy.zeros((0, 2), dtype=int)).tolist() == [0.0, 0.0]
    assert max_iou_with_gold(numpy.zeros((0, 2), dtype=int), gold).tolist() == []

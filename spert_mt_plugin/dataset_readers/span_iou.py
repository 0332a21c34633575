"""
The overlap of candidate spans with the gold entities, which the IoU-scaled entity loss (eq. 13)
reads: computed once per sentence when the reader builds its instance.

Spans are rows `[start, end]` of *inclusive* word indices, as the readers' `spans` field holds them.
"""

import numpy


def span_iou(spans: numpy.ndarray, others: numpy.ndarray) -> numpy.ndarray:
    """
    Eq. 11: `(len(spans), len(others))`, the IoU of every span of `spans` with every span of
    `others`, in words: the words they share over the words either covers; 0 when they share none.
    """
    starts, ends = spans[:, 0:1], spans[:, 1:2]
    intersection = numpy.minimum(ends, others[:, 1]) - numpy.maximum(starts, others[:, 0]) + 1
    union = numpy.maximum(ends, others[:, 1]) - numpy.minimum(starts, others[:, 0]) + 1
    return numpy.where(intersection > 0, intersection / union, 0.0)


def max_iou_with_gold(spans: numpy.ndarray, gold: numpy.ndarray) -> numpy.ndarray:
    """
    Eq. 12, ENIoU: for each span of `spans`, its largest IoU (eq. 11) with a gold entity of `gold`,
    as float32; 0 when the sentence has no gold entity.
    """
    if len(gold) == 0 or len(spans) == 0:
        return numpy.zeros(len(spans), dtype=numpy.float32)
    return span_iou(spans, gold).max(axis=1).astype(numpy.float32)

"""
Precision, recall and F1 of entities and of relations against the thresholds theta that keep a
prediction (`ScoreCurve`), and the theta to choose for the best F1 or a wanted precision.

A curve is built from predictions made at low thresholds: those at a higher theta are the same ones
filtered (`filter_predictions`; why this is exact: `threshold_measurement`), scored as
`allennlp evaluate` scores them (`ExtractionMetrics`: an entity is correct when span and type
match, a relation when both argument spans and its type do, the `rel` metric).
"""

import math
from bisect import bisect_left
from itertools import accumulate
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from spert_mt_plugin.metrics.typed_set_f1 import NerF1, RelationF1, precision_recall_f1

Sentences = List[List[Dict[str, Any]]]


def filter_predictions(
    entities: Sentences, relations: Sentences, entity_threshold: float, relation_threshold: float
) -> Tuple[Sentences, Sentences]:
    """
    The predictions at higher thresholds, from those at lower ones: per sentence the entities
    scoring at least `entity_threshold` (in order), and the relations scoring at least
    `relation_threshold` whose two arguments remain, their `head` / `tail` renumbered.
    """
    kept_entities: Sentences = []
    kept_relations: Sentences = []
    for sentence_entities, sentence_relations in zip(entities, relations):
        new_index: Dict[int, int] = {}
        for index, entity in enumerate(sentence_entities):
            if entity["score"] >= entity_threshold:
                new_index[index] = len(new_index)
        kept_entities.append([sentence_entities[index] for index in new_index])
        kept_relations.append(
            [
                {**relation, "head": new_index[relation["head"]], "tail": new_index[relation["tail"]]}
                for relation in sentence_relations
                if relation["score"] >= relation_threshold
                and relation["head"] in new_index
                and relation["tail"] in new_index
            ]
        )
    return kept_entities, kept_relations


class CurvePoint(NamedTuple):
    """Micro precision, recall and F1 at `threshold`, with the counts behind them."""

    threshold: float
    precision: float
    recall: float
    f1: float
    predicted: int
    correct: int


class ScoreCurve:
    """
    Precision, recall and F1 against the threshold, for predictions that are kept when their score
    reaches it. Built from each prediction's `(score, correct)` and the number of gold items, so
    that every threshold costs a look-up.
    """

    def __init__(self, scored: Iterable[Tuple[float, bool]], gold: int, low: float) -> None:
        ascending = sorted(scored)
        self.gold = gold
        self.low = low
        # The predictions kept at theta are those from bisect_left(self._ascending, theta) on.
        self._ascending = [score for score, _ in ascending]
        # How many of the predictions from each position on are correct.
        self._correct_from = list(accumulate(reversed([correct for _, correct in ascending]), initial=0))[::-1]
        self._distinct = sorted(set(self._ascending))
        self.scores = self._distinct[::-1]

    def at(self, threshold: float) -> CurvePoint:
        """The figures when the predictions scoring at least `threshold` are kept."""
        first = bisect_left(self._ascending, threshold)
        predicted = len(self._ascending) - first
        correct = self._correct_from[first]
        precision, recall, f1 = precision_recall_f1(correct, predicted - correct, self.gold - correct)
        return CurvePoint(threshold, precision, recall, f1, predicted, correct)

    def points(self) -> List[CurvePoint]:
        """One point per distinct score, highest first: every different set of predictions the curve holds."""
        return [self.at(score) for score in self.scores]

    def interval(self, threshold: float) -> Tuple[float, float]:
        """
        `(lower, upper)`: every theta in `(lower, upper]` keeps the same predictions as `threshold`
        (the lowest range is `[low, upper]`, the highest `(top score, inf)`).
        """
        position = bisect_left(self._distinct, threshold)
        lower = self._distinct[position - 1] if position > 0 else self.low
        upper = self._distinct[position] if position < len(self._distinct) else math.inf
        return lower, upper


def readable_threshold(lower: float, upper: float) -> float:
    """
    A short decimal inside `(lower, upper]`, away from its ends (a score computed in another batch
    may differ in the last digits): the theta to type. `upper` may be infinite.
    """
    if math.isinf(upper):
        return float(math.floor(lower) + 1)
    margin = (upper - lower) / 4
    for digits in range(0, 12):
        step = 10.0**-digits
        candidate = round(math.ceil((lower + margin) / step) * step, digits)
        if lower + margin <= candidate <= upper - margin:
            return candidate
    return (lower + upper) / 2


def theta_for(curve: ScoreCurve, threshold: float, current: float) -> float:
    """
    The theta to report for the predictions kept at `threshold`: `current` when it keeps the same
    ones, else a readable theta of the range that does.
    """
    # The predictions kept at two thetas are nested: the same count means the same predictions.
    if curve.at(current).predicted == curve.at(threshold).predicted:
        return current
    return readable_threshold(*curve.interval(threshold))


def best_f1(curve: ScoreCurve, current: float) -> Tuple[float, CurvePoint]:
    """
    The theta of the best F1 and its figures: `current` itself when it is among the best, else
    a readable theta in the best range nearest to `current`.
    """
    at_current = curve.at(current)
    best = max([point.f1 for point in curve.points()] + [at_current.f1])
    if at_current.f1 == best:
        return current, at_current
    candidates = [point for point in curve.points() if point.f1 == best]
    nearest = min(candidates, key=lambda point: abs(point.threshold - current))
    theta = theta_for(curve, nearest.threshold, current)
    return theta, curve.at(theta)


def for_precision(curve: ScoreCurve, wanted: float, current: float) -> Optional[Tuple[float, CurvePoint]]:
    """
    The lowest range of theta whose precision reaches `wanted` (the highest recall that has it),
    as a theta (`current` if it is in that range, else a readable one) and its figures; `None`
    when no theta reaches it.
    """
    reaching = [point for point in curve.points() if point.precision >= wanted]
    if not reaching:
        return None
    lowest = min(reaching, key=lambda point: point.threshold)
    theta = theta_for(curve, lowest.threshold, current)
    return theta, curve.at(theta)


def _scored(predicted: List[List[Any]], scores: List[List[float]], gold: List[List[Any]]) -> Tuple[list, int]:
    """
    `(score, correct)` of each distinct predicted item and the number of gold items, compared per
    sentence as sets as `TypedSetF1` does (an item predicted twice counts once, from its best score).
    """
    scored = []
    gold_count = 0
    for sentence_items, sentence_scores, sentence_gold in zip(predicted, scores, gold):
        gold_set = set(sentence_gold)
        gold_count += len(gold_set)
        best: Dict[Any, float] = {}
        for item, score in zip(sentence_items, sentence_scores):
            best[item] = max(score, best.get(item, -math.inf))
        scored.extend((score, item in gold_set) for item, score in best.items())
    return scored, gold_count


def entity_curve(entities: Sentences, metadata: Sequence[Dict[str, Any]], low: float) -> ScoreCurve:
    """NER precision/recall/F1 (`ner_*` of `allennlp evaluate`) against the entity theta."""
    from spert_mt_plugin.models.extraction_metrics import gold_metric_tuples, metric_tuples

    predicted, _ = metric_tuples(entities, [[] for _ in entities])
    gold, _ = gold_metric_tuples(list(metadata))
    scored, gold_count = _scored(
        [NerF1.items(sentence) for sentence in predicted],
        [[entity["score"] for entity in sentence] for sentence in entities],
        [NerF1.items(sentence) for sentence in gold],
    )
    return ScoreCurve(scored, gold_count, low)


def relation_curve(
    entities: Sentences,
    relations: Sentences,
    metadata: Sequence[Dict[str, Any]],
    symmetric: Iterable[str],
    entity_threshold: float,
    low: float,
) -> ScoreCurve:
    """RE precision/recall/F1 (`rel_*` of `allennlp evaluate`) against the relation theta, at `entity_threshold`."""
    from spert_mt_plugin.models.extraction_metrics import gold_metric_tuples, metric_tuples

    entities, relations = filter_predictions(entities, relations, entity_threshold, -math.inf)
    metric = RelationF1(False, sorted(symmetric))
    _, predicted = metric_tuples(entities, relations)
    _, gold = gold_metric_tuples(list(metadata))
    scored, gold_count = _scored(
        [metric.items(sentence) for sentence in predicted],
        [[relation["score"] for relation in sentence] for sentence in relations],
        [metric.items(sentence) for sentence in gold],
    )
    return ScoreCurve(scored, gold_count, low)


def grid(low: float, high: float, rows: int = 20) -> List[float]:
    """Round thetas from `low` to `high`, at most about `rows` of them."""
    span = max(high - low, 1e-9)
    step = next(
        (s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50) if span / s <= rows),
        span / rows,
    )
    digits = max(0, -math.floor(math.log10(step)) + 1)
    first = math.ceil(low / step - 1e-9)
    values = []
    index = first
    while index * step <= high + 1e-9:
        values.append(round(index * step, digits))
        index += 1
    return values


def _point_json(theta: float, point: CurvePoint, curve: ScoreCurve) -> Dict[str, Any]:
    lower, upper = curve.interval(theta)
    return {
        "theta": theta,
        # Every theta of this range keeps the same predictions on the file measured: (from, up_to],
        # [from, up_to] for the lowest range, which starts at the low bound.
        "same_from": lower,
        "same_from_included": curve.at(lower).predicted == point.predicted,
        "same_up_to": None if math.isinf(upper) else upper,
        "precision": point.precision,
        "recall": point.recall,
        "f1": point.f1,
        "predicted": point.predicted,
        "correct": point.correct,
    }


def task_report(
    curve: ScoreCurve, current: float, wanted_precisions: Sequence[float], score_kind: str
) -> Dict[str, Any]:
    """One task's figures: at the current theta, at the best F1, per wanted precision, on a grid, the whole curve."""
    theta, point = best_f1(curve, current)
    top = curve.scores[0] if curve.scores else curve.low
    thetas = sorted(set(grid(curve.low, max(top, current)) + [current, theta]))
    precisions = []
    for wanted in wanted_precisions:
        found = for_precision(curve, wanted, current)
        entry: Dict[str, Any] = {"wanted": wanted, "reached": found is not None}
        if found is not None:
            entry.update(_point_json(found[0], found[1], curve))
        precisions.append(entry)
    return {
        "score": score_kind,
        "low_bound": curve.low,
        "gold": curve.gold,
        "current": _point_json(current, curve.at(current), curve),
        "best_f1": _point_json(theta, point, curve),
        "precision": precisions,
        "grid": [_point_json(t, curve.at(t), curve) for t in thetas],
        "curve": [_point_json(p.threshold, p, curve) for p in curve.points()],
    }

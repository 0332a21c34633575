from collections import Counter
from typing import Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

import torch.distributed as dist
from allennlp.common.util import is_distributed
from allennlp.training.metrics import Metric


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def precision_recall_f1(tp: int, fp: int, fn: int) -> Tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    return precision, recall, _f1(precision, recall)


Item = Tuple[Hashable, str]


def sentence_counts(predicted: Iterable[Item], gold: Iterable[Item]) -> Tuple[Counter, Counter, Counter]:
    """
    One sentence's true positives, false positives and false negatives per type: the items are
    `(key, type)` pairs compared as sets (a predicted item is correct when it equals a gold item).
    """
    predicted_set, gold_set = set(predicted), set(gold)
    true_positives = Counter(label for _, label in predicted_set & gold_set)
    false_positives = Counter(label for _, label in predicted_set - gold_set)
    false_negatives = Counter(label for _, label in gold_set - predicted_set)
    return true_positives, false_positives, false_negatives


@Metric.register("typed_set_f1")
class TypedSetF1(Metric):
    """
    Precision, recall and F1 of predicted against gold items, per sentence as sets (an item is
    correct when it equals a gold item), counted per type.

    `__call__` takes, per sentence, the predicted and the gold items as `(key, type)` pairs; the
    subclasses build them from entities and relations.

    `get_metric` returns `precision`, `recall`, `f1` (micro: counts pooled over types) and
    `macro_precision`, `macro_recall`, `macro_f1` (the mean of the per-type figures over the types
    seen in the gold data or the predictions), and with `per_type` also `<type>_precision`, ...

    # Parameters

    per_type : `bool`, optional (default = `False`)
        Also report each type's precision, recall and F1.
    """

    def __init__(self, per_type: bool = False) -> None:
        self._per_type = per_type
        self._true_positives: Counter = Counter()
        self._false_positives: Counter = Counter()
        self._false_negatives: Counter = Counter()

    def count(
        self,
        predicted: Sequence[Iterable[Tuple[Hashable, str]]],
        gold: Sequence[Iterable[Tuple[Hashable, str]]],
    ) -> None:
        counts: List[Counter] = [Counter(), Counter(), Counter()]
        for sentence_predicted, sentence_gold in zip(predicted, gold):
            for total, sentence in zip(counts, sentence_counts(sentence_predicted, sentence_gold)):
                total.update(sentence)
        if is_distributed():
            gathered: List[Optional[List[Counter]]] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, counts)
            counts = [sum((worker[i] for worker in gathered), Counter()) for i in range(3)]
        self._true_positives.update(counts[0])
        self._false_positives.update(counts[1])
        self._false_negatives.update(counts[2])

    def get_metric(self, reset: bool = False) -> Dict[str, float]:
        tp, fp, fn = self._true_positives, self._false_positives, self._false_negatives
        metrics: Dict[str, float] = {}
        p, r, f = precision_recall_f1(sum(tp.values()), sum(fp.values()), sum(fn.values()))
        metrics.update(precision=p, recall=r, f1=f)
        types = sorted(set(tp) | set(fp) | set(fn))
        per_type = {t: precision_recall_f1(tp[t], fp[t], fn[t]) for t in types}
        for i, name in enumerate(("precision", "recall", "f1")):
            metrics[f"macro_{name}"] = sum(v[i] for v in per_type.values()) / len(types) if types else 0.0
        if self._per_type:
            for t, (p, r, f) in per_type.items():
                metrics.update({f"{t}_precision": p, f"{t}_recall": r, f"{t}_f1": f})
        if reset:
            self.reset()
        return metrics

    def reset(self) -> None:
        self._true_positives.clear()
        self._false_positives.clear()
        self._false_negatives.clear()


# (start, exclusive end, type)
EntityTuple = Tuple[int, int, str]
# (head entity, tail entity, type)
RelationTuple = Tuple[EntityTuple, EntityTuple, str]


@Metric.register("ner_f1")
class NerF1(TypedSetF1):
    """
    Entity precision/recall/F1: an entity is correct when its span and type match a gold entity.
    Call with, per sentence, lists of `(start, end, type)`.
    """

    @staticmethod
    def items(entities: Sequence[EntityTuple]) -> List[Item]:
        """One sentence's entities as the `(key, type)` items that are compared."""
        return [((start, end), label) for start, end, label in entities]

    def __call__(  # type: ignore[override]
        self, predicted: Sequence[Sequence[EntityTuple]], gold: Sequence[Sequence[EntityTuple]]
    ) -> None:
        self.count([self.items(sentence) for sentence in predicted], [self.items(sentence) for sentence in gold])


@Metric.register("relation_f1")
class RelationF1(TypedSetF1):
    """
    Relation precision/recall/F1. A relation is correct when its type and both argument spans
    match a gold relation; with `strict`, the argument entity types must match too (SpERT's
    "with NEC"). For a symmetric relation type, (a, b) and (b, a) are the same relation.
    Call with, per sentence, lists of `((start, end, type), (start, end, type), relation type)`.

    # Parameters

    strict : `bool`, optional (default = `False`)
    symmetric_relations : `List[str]`, optional
    per_type : `bool`, optional (default = `False`)
    """

    def __init__(self, strict: bool = False, symmetric_relations: Sequence[str] = (), per_type: bool = False) -> None:
        super().__init__(per_type)
        self._strict = strict
        self._symmetric = set(symmetric_relations)

    def _key(self, relation: RelationTuple) -> Item:
        head, tail, label = relation
        if not self._strict:
            head, tail = head[:2], tail[:2]
        if label in self._symmetric and tail < head:
            head, tail = tail, head
        return (head, tail), label

    def items(self, relations: Sequence[RelationTuple]) -> List[Item]:
        """One sentence's relations as the `(key, type)` items that are compared."""
        return [self._key(relation) for relation in relations]

    def __call__(  # type: ignore[override]
        self, predicted: Sequence[Sequence[RelationTuple]], gold: Sequence[Sequence[RelationTuple]]
    ) -> None:
        self.count([self.items(sentence) for sentence in predicted], [self.items(sentence) for sentence in gold])

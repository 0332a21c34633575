"""
The model's evaluation: NER, relation and strict relation P/R/F1 over decoded predictions.
"""

from typing import Any, Dict, Iterable, List, Tuple

from spert_mt_plugin.metrics import NerF1, RelationF1

Sentences = List[List[Dict[str, Any]]]


def metric_tuples(entities: Sentences, relations: Sentences) -> Tuple[List[List[Tuple]], List[List[Tuple]]]:
    """
    Per sentence, the predicted entities as `(start, end, type)` and relations as
    `(head entity, tail entity, type)`, as the metrics compare them.
    """
    entity_tuples = [[(e["start"], e["end"], e["type"]) for e in sentence] for sentence in entities]
    relation_tuples = [
        [(ents[r["head"]], ents[r["tail"]], r["type"]) for r in sentence]
        for ents, sentence in zip(entity_tuples, relations)
    ]
    return entity_tuples, relation_tuples


def gold_metric_tuples(metadata: List[Dict[str, Any]]) -> Tuple[List[List[Tuple]], List[List[Tuple]]]:
    """Each sentence's gold entities and relations (from its metadata) as `metric_tuples` gives predictions."""
    entity_tuples = [[tuple(e) for e in m["entities"]] for m in metadata]
    relation_tuples = [
        [(ents[h], ents[t], label) for h, t, label in m["relations"]] for ents, m in zip(entity_tuples, metadata)
    ]
    return entity_tuples, relation_tuples


class ExtractionMetrics:
    """
    `ner_*`: an entity is correct when its span and type match; `rel_*`: a relation when both
    spans and its type match (the paper's figure); `rel_strict_*`: the entity types too.
    """

    def __init__(self, symmetric_relations: Iterable[str], per_type: bool = False) -> None:
        symmetric = sorted(symmetric_relations)
        self._ner = NerF1(per_type)
        self._relations = RelationF1(False, symmetric, per_type)
        self._strict_relations = RelationF1(True, symmetric, per_type)

    def __call__(self, entities: Sentences, relations: Sentences, metadata: List[Dict[str, Any]]) -> None:
        """Counts one batch: its decoded `entities` and `relations` against the gold ones in `metadata`."""
        predicted_entities, predicted_relations = metric_tuples(entities, relations)
        gold_entities, gold_relations = gold_metric_tuples(metadata)
        self._ner(predicted_entities, gold_entities)
        self._relations(predicted_relations, gold_relations)
        self._strict_relations(predicted_relations, gold_relations)

    def get_metric(self, reset: bool = False) -> Dict[str, float]:
        metrics = (("ner", self._ner), ("rel", self._relations), ("rel_strict", self._strict_relations))
        return {
            f"{prefix}_{name}": value for prefix, metric in metrics for name, value in metric.get_metric(reset).items()
        }

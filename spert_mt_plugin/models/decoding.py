"""
Decoding: the relations the relation head predicts among the entities (`decode`), and the
conversion of the heads' decisions (`Head.decide`, `Head.decisions`) into plain dictionaries.

The `score` a prediction carries depends on the head that made it:

- multi-task head (SpERT.MT): the class's *margin score*, unbounded; the class was taken because
  this score reached the threshold theta (0.85);
- softmax entity head (`-MTL`, SpERT): the class's softmax *probability* (among the types and "no
  entity");
- sigmoid relation head (`-MTL`, SpERT): the type's sigmoid *probability*, at least 0.4.
"""

from typing import Any, Dict, List, Set, Tuple

from spert_mt_plugin.models.candidate_scoring import CandidateScorer
from spert_mt_plugin.models.entities import Entities
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.sampling import ordered_pairs
from spert_mt_plugin.modules.span_overlap import overlaps

Predictions = List[List[Dict[str, Any]]]


def decode(
    scorer: CandidateScorer, labels: LabelIndex, table: RangeMaxTable, entities: Entities, flat: bool
) -> Tuple[Predictions, Predictions]:
    """Per sentence, the entities as dictionaries, and the relations predicted between them."""
    pairs = ordered_pairs(entities.valid)
    if flat:
        # Given entities may overlap; a flat model never relates two overlapping spans.
        pairs = pairs & ~overlaps(entities.spans)
    pairs = pairs.nonzero()
    relation_class = relation_score = pairs.new_zeros((0,))
    if pairs.size(0) > 0:
        relation_output = scorer.pairs(table, entities.spans, entities.vectors, entities.type_scores, pairs)
        kept, relation_class, relation_score = scorer.relation_head.decisions(relation_output)
        pairs = pairs[kept]
    # From here on only the predicted items remain: plain Python lists are cheap.
    entity_lists = [t.tolist() for t in (entities.spans, entities.classes, entities.scores)]
    entity_output = entity_dicts(*entity_lists, entities.valid.sum(dim=1).tolist(), labels.entity_types)
    relation_lists = [t.tolist() for t in (pairs, relation_class, relation_score)]
    relations = relation_dicts(*relation_lists, len(entity_output), labels.relation_types, labels.symmetric)
    return entity_output, relations


def merge_symmetric_relations(relations: List[Dict[str, Any]], symmetric: Set[str]) -> List[Dict[str, Any]]:
    """
    For a symmetric relation type, (a, b) and (b, a) are one relation: of the two directions,
    keep the better-scored one. Other relations pass unchanged, in order.
    """
    best: Dict[Tuple[int, int, str], Dict[str, Any]] = {}
    merged: List[Dict[str, Any]] = []
    for relation in relations:
        if relation["type"] not in symmetric:
            merged.append(relation)
            continue
        key = (min(relation["head"], relation["tail"]), max(relation["head"], relation["tail"]), relation["type"])
        if key not in best or relation["score"] > best[key]["score"]:
            best[key] = relation
    return merged + list(best.values())


def entity_dicts(
    spans: List[List[List[int]]],
    classes: List[List[int]],
    scores: List[List[float]],
    counts: List[int],
    types: List[str],
) -> List[List[Dict[str, Any]]]:
    """
    Per sentence, its first `counts[i]` predicted spans (inclusive ends) as dictionaries with
    `start`, exclusive `end`, `type` and `score`.
    """
    return [
        [
            {"start": spans[s][i][0], "end": spans[s][i][1] + 1, "type": types[classes[s][i]], "score": scores[s][i]}
            for i in range(count)
        ]
        for s, count in enumerate(counts)
    ]


def relation_dicts(
    pairs: List[List[int]],
    classes: List[int],
    scores: List[float],
    num_sentences: int,
    types: List[str],
    symmetric: Set[str],
) -> List[List[Dict[str, Any]]]:
    """
    Per sentence, the predicted relations (`pairs`: sentence, head, tail as indices into the
    sentence's predicted entities) as dictionaries, symmetric types merged.
    """
    relations: List[List[Dict[str, Any]]] = [[] for _ in range(num_sentences)]
    for (sentence, head, tail), label, score in zip(pairs, classes, scores):
        relations[sentence].append({"head": head, "tail": tail, "type": types[label], "score": score})
    return [merge_symmetric_relations(sentence, symmetric) for sentence in relations]

"""
Entity decoding applied afterwards to kept test predictions (`test_predictions.jsonl.gz`), so that
runs tested with every accepted span (nested decoding) can be scored as flat decoding would have
predicted them, without the weights.

Flat decoding here is the model's (`entity_decoding: "flat"`, `modules/span_overlap.py`): the
predicted entities are taken in descending score, ties in the order the model lists them (its
candidate order), and one is dropped if it shares a word with one already taken; relations with a
dropped argument are dropped. Applied to a nested prediction it gives exactly the model's flat
prediction: the choice of a span depends only on the better-scored spans, which nested decoding
keeps with their scores, and a relation's score does not depend on the other entities.
"""

from typing import Any, Dict, List, Sequence

import torch

from spert_mt_plugin.modules.span_overlap import best_non_overlapping
from spert_mt_plugin.results.runs import ResultsError

# "nested": the predictions as kept (as the run was tested); "flat": without overlapping entities.
DECODINGS = ("nested", "flat")


def decoding_note(decoding: str) -> str:
    """What a table of `decoding` (not "nested") shows, for its Markdown and JSON."""
    return (
        f"Entity decoding {decoding}, applied afterwards to each run's kept test predictions, every test figure "
        "recomputed from them (the runs' metrics.json keep the figures as tested). Exact: the model decoding "
        f"{decoding} gives the same predictions (the choice of a span depends only on better-scored spans, and a "
        "relation's score does not depend on the other entities)"
    )


def flat_prediction(sentence: Dict[str, Any]) -> Dict[str, Any]:
    """
    `sentence` (a kept prediction: SpERT JSON with scored `entities` and `relations` indexing
    them) with only the best-scoring entities that share no word, in their order, and the
    relations between them, re-indexed. Every other key (the gold annotation, tokens, ...) is
    left as it is; `sentence` is not changed.
    """
    entities = sentence["entities"]
    for index, entity in enumerate(entities):
        if not isinstance(entity.get("score"), (int, float)):
            raise ResultsError(f"entity {index} has no score: flat decoding ranks the entities by their scores")
    # The model's own flat decoding, on this sentence's entities (inclusive ends; float64 keeps
    # the scores as they were written, so that no two become equal).
    spans = torch.tensor([[[e["start"], e["end"] - 1] for e in entities]], dtype=torch.long).view(1, -1, 2)
    scores = torch.tensor([[float(e["score"]) for e in entities]], dtype=torch.float64).view(1, -1)
    chosen = best_non_overlapping(spans, scores, torch.ones_like(scores, dtype=torch.bool))
    kept = chosen[0].nonzero().flatten().tolist()
    position = {old: new for new, old in enumerate(kept)}
    relations = []
    for number, relation in enumerate(sentence["relations"]):
        head, tail = relation["head"], relation["tail"]
        if not all(isinstance(i, int) and 0 <= i < len(entities) for i in (head, tail)):
            raise ResultsError(f"relation {number} joins entities {head} and {tail}, but there are {len(entities)}")
        if head in position and tail in position:
            relations.append(dict(relation, head=position[head], tail=position[tail]))
    return dict(sentence, entities=[entities[i] for i in kept], relations=relations)


def decode_predictions(lines: Sequence[Dict[str, Any]], decoding: str, source: str) -> List[Dict[str, Any]]:
    """
    The kept prediction `lines` of `source` (a file, named in errors with the line) decoded as
    `decoding` asks: "nested" returns them as they are, "flat" applies `flat_prediction`.
    """
    if decoding not in DECODINGS:
        raise ResultsError(f"unknown decoding {decoding!r}: one of {', '.join(DECODINGS)}")
    if decoding == "nested":
        return list(lines)
    decoded = []
    for number, line in enumerate(lines, start=1):
        try:
            decoded.append(flat_prediction(line))
        except ResultsError as error:
            raise ResultsError(f"{source}, line {number}: {error}") from None
    return decoded

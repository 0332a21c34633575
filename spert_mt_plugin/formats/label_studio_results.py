"""
Label Studio tasks and predictions written from texts with entities (character offsets) and
relations: `labels` regions with ids `e0`, `e1`, ... and `relation` items between them, under the
tag names of the project's labeling config (`from_name`, `to_name`). Reading Label Studio's
exports is `formats.label_studio`'s.
"""

from statistics import mean
from typing import Any, Dict, List, Optional, Sequence, Tuple

# (character start, exclusive end, type, score or None) and (head index, tail index, type, score or None)
CharEntity = Tuple[int, int, str, Optional[float]]
IndexRelation = Tuple[int, int, str, Optional[float]]


def task(
    name: str,
    text: str,
    entities: Sequence[CharEntity],
    relations: Sequence[IndexRelation],
    data_key: str = "text",
    model_version: Optional[str] = None,
    from_name: str = "label",
    to_name: str = "text",
) -> Dict[str, Any]:
    """
    The Label Studio task of a text: entities by character offsets, relations (direction "right",
    head -> tail) by index into `entities`. With `model_version`, the result is a prediction
    (`predictions`, see `prediction`), else a completed annotation (`annotations`). `from_name` and
    `to_name` are the names of the labeling config's Labels and Text tags; `name` goes under
    `data["orig_id"]`.
    """
    content: Dict[str, Any] = {"data": {data_key: text, "orig_id": name}}
    if model_version is None:
        content["annotations"] = [{"result": result_items(text, entities, relations, from_name, to_name, False)}]
    else:
        content["predictions"] = [prediction(text, entities, relations, model_version, from_name, to_name)]
    return content


def prediction(
    text: str,
    entities: Sequence[CharEntity],
    relations: Sequence[IndexRelation],
    model_version: str,
    from_name: str = "label",
    to_name: str = "text",
) -> Dict[str, Any]:
    """
    A Label Studio prediction of a text: its `result` (see `task`), each item with its `score`, the
    mean of those as the prediction's `score` (Label Studio sorts tasks by it) and `model_version`.
    """
    result = result_items(text, entities, relations, from_name, to_name, True)
    scores = [item["score"] for item in result if "score" in item]
    content: Dict[str, Any] = {"model_version": model_version, "result": result}
    if scores:
        content["score"] = mean(scores)
    return content


def result_items(
    text: str,
    entities: Sequence[CharEntity],
    relations: Sequence[IndexRelation],
    from_name: str,
    to_name: str,
    scored: bool,
) -> List[Dict[str, Any]]:
    """The `labels` regions (ids `e0`, `e1`, ...) and `relation` items of a text; with `scored`, their scores."""
    result: List[Dict[str, Any]] = []
    for index, (start, end, label, score) in enumerate(entities):
        value = {"start": start, "end": end, "text": text[start:end], "labels": [label]}
        item = {"id": f"e{index}", "from_name": from_name, "to_name": to_name, "type": "labels", "value": value}
        result.append(_scored(item, score if scored else None))
    for head, tail, label, score in relations:
        item = {"from_id": f"e{head}", "to_id": f"e{tail}", "type": "relation", "direction": "right", "labels": [label]}
        result.append(_scored(item, score if scored else None))
    return result


def _scored(item: Dict[str, Any], score: Optional[float]) -> Dict[str, Any]:
    if score is not None:
        item["score"] = score
    return item

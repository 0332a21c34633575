"""
Label Studio's JSON export of a text project with labels and relations: a JSON array of tasks,

    {"id": 7, "data": {"text": "Ada works for Acme."},
     "annotations": [{"id": 3, "was_cancelled": false, "result": [
         {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
          "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["Person"]}},
         {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right", "labels": ["Works_For"]},
         ...]}],
     "predictions": [...]}

with exclusive end offsets in characters of the text, found under `data[data_key]` (default
`"text"`). Offsets in UTF-16 code units (JavaScript's string indices, which some Label Studio
versions export: they differ after an emoji) are recognised by the region's `text` and converted.
The task is named by `data["orig_id"]` when present (this package writes it; Label Studio keeps
data keys but gives tasks new ids), else by its `id`, else by its index.

Of a task's annotations, the first one that was not cancelled (`was_cancelled`, a skipped task) is
read; the others and the `predictions` are not. A task without annotations is unannotated text; a
task whose every annotation was cancelled is reported and gives no sentences.

A relation's `direction` "right" reads from -> to (head -> tail), "left" to -> from; "bi" is kept,
once, in text order, only when the types file marks its type symmetric, and is reported otherwise.
A relation with several labels gives one relation per label (a pair of entities takes one type, so
two different labels on one pair stop with that error); one without labels is reported. A region
with several labels (a span takes one type) or none is reported, and so is every relation to it;
results other than `labels` and `relation` (choices, text areas, ratings, ...) are reported.

Writing tasks and predictions for Label Studio is `formats.label_studio_results`'s.

The text becomes sentences of words as brat text does (`brat_sentences.text_sentences`). Reports
(`Skipped`) give the task's index as their `line`; malformed tasks raise a `DataError` naming the
file, the task's index and id, and the result.
"""

import json
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from spacy.language import Language

from spert_mt_plugin.formats.brat import BratEntity, Skipped
from spert_mt_plugin.formats.brat_sentences import CharRelation, text_sentences, trimmed_span
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, is_integer
from spert_mt_plugin.formats.spert_json import iter_json_documents, require
from spert_mt_plugin.formats.types_file import EntityRelationTypes

DIRECTIONS = ("right", "left", "bi")


def read_file(
    path: str, nlp: Language, types: Optional[EntityRelationTypes] = None, data_key: str = "text"
) -> Iterator[Tuple[List[Skipped], List[Tuple[str, Sentence]]]]:
    """
    For each task of the Label Studio JSON export `path`: the report of what cannot be represented
    and its `(location, Sentence)` pairs, not yet validated. With `types`, every entity and relation
    type must be one of them; "bi" relations are kept for its symmetric types only.
    """
    for index, (where, task) in enumerate(iter_json_documents(path)):
        # a JSON array names its items "document N": here they are tasks
        if where == f"{path}, document {index}":
            where = f"{path}, task {index}"
        yield task_sentences(task, index, where, path, nlp, types, data_key)


def task_sentences(
    task: Any,
    index: int,
    where: str,
    path: str,
    nlp: Language,
    types: Optional[EntityRelationTypes] = None,
    data_key: str = "text",
) -> Tuple[List[Skipped], List[Tuple[str, Sentence]]]:
    """One task's report and located sentences; `index` is its place in the file, `where` names it."""
    location = where
    if isinstance(task, dict) and task.get("id") is not None:
        location = f"{where} (id {task['id']})"
    data = require(task, "data", dict, location)
    text = data.get(data_key)
    if not isinstance(text, str):
        raise DataError(
            f"{location}: data[{data_key!r}] must be the text (a string); the task's data has "
            f"{', '.join(repr(key) for key in data) or 'no keys'} (the option data_key names the text's key)"
        )
    name = _name(task, data, f"task{index}")
    annotations = task.get("annotations")
    if annotations is None or annotations == []:
        sentences, _ = text_sentences(text, None, [], nlp, name, path)
        return [], [(f"{location}, sentence {number}", sentence) for number, (sentence, _) in enumerate(sentences)]
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise DataError(f"{location}: 'annotations' must be a list of objects")
    chosen = next((a for a in annotations if not a.get("was_cancelled", False)), None)
    if chosen is None:
        ids = json.dumps([a.get("id") for a in annotations])
        reason = "every annotation of the task was cancelled (skipped by its annotators)"
        return [Skipped(path, index, "cancelled task", f"annotations {ids}", reason)], []
    where_annotation = f"{location}, annotation {chosen.get('id', annotations.index(chosen))}"
    result = chosen.get("result", [])
    if not isinstance(result, list):
        raise DataError(f"{where_annotation}: 'result' must be a list")
    reader = _ResultReader(text, path, index, where_annotation, types)
    for number, item in enumerate(result):
        reader.add(item, number)
    entities, relations = reader.entities_and_relations()
    sentences, skipped = text_sentences(text, entities, relations, nlp, name, path)
    located = [(f"{location}, sentence {number}", sentence) for number, (sentence, _) in enumerate(sentences)]
    return reader.skipped + skipped, located


def _name(task: Dict[str, Any], data: Dict[str, Any], default: str) -> str:
    for value in (data.get("orig_id"), task.get("id")):
        if value is not None and str(value).strip():
            return str(value)
    return default


class _ResultReader:
    """The regions and relations of one annotation's `result`, in the order of the result."""

    def __init__(self, text: str, path: str, index: int, location: str, types: Optional[EntityRelationTypes]) -> None:
        self.text, self.path, self.index, self.location, self.types = text, path, index, location, types
        self._utf16_to_code_point: Optional[Dict[int, int]] = None  # built on the first region that needs it
        # region id -> (start, end, labels, the result item, its number)
        self.regions: Dict[str, Tuple[int, int, List[str], Dict[str, Any], int]] = {}
        self.other_ids: set = set()
        self.relation_items: List[Tuple[Dict[str, Any], int]] = []
        self.skipped: List[Skipped] = []

    def report(self, kind: str, item: Dict[str, Any], reason: str) -> Skipped:
        return Skipped(self.path, self.index, kind, json.dumps(item, ensure_ascii=False), reason)

    def add(self, item: Any, number: int) -> None:
        where = f"{self.location}, result {number}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected an object")
        kind = item.get("type")
        if not isinstance(kind, str):
            raise DataError(f"{where}: a result needs a 'type' (labels, relation, ...)")
        if kind == "relation":
            self.relation_items.append((item, number))
        elif kind == "labels":
            self._add_region(item, number, where)
        else:
            if item.get("id") is not None:
                self.other_ids.add(str(item["id"]))
            self.skipped.append(
                self.report(f"{kind} result", item, f"Label Studio {kind!r} results are not represented")
            )

    def _add_region(self, item: Dict[str, Any], number: int, where: str) -> None:
        value = item.get("value")
        if not isinstance(value, dict):
            raise DataError(f"{where}: a labels result needs a 'value' object with start, end and labels")
        identifier = str(item["id"]) if item.get("id") is not None else f"result {number}"
        where = f"{where} (region {identifier})"
        start, end = value.get("start"), value.get("end")
        if not (is_integer(start) and is_integer(end)):
            raise DataError(f"{where}: 'start' and 'end' must be integers, got {start!r} and {end!r}")
        if "text" in value and value["text"] != self.text[start:end]:
            start, end = self._code_point_offsets(start, end, value["text"])
        if not 0 <= start < end <= len(self.text):
            raise DataError(
                f"{where}: offsets {start}-{end} are outside the text ({len(self.text)} characters, "
                f"need 0 <= start < end <= {len(self.text)})"
            )
        if "text" in value and value["text"] != self.text[start:end]:
            raise DataError(
                f"{where}: the text {value['text']!r} does not match its offsets {start}-{end}, which cover "
                f"{self.text[start:end]!r} (is data_key the key of the text the regions were drawn on?)"
            )
        labels = value.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise DataError(f"{where}: 'labels' must be a list of strings")
        if identifier in self.regions:
            # one region labelled by two Labels controls: one result item for each
            previous_start, previous_end, previous_labels, _, _ = self.regions[identifier]
            if (previous_start, previous_end) != (start, end):
                raise DataError(f"{where}: the region id is already used for offsets {previous_start}-{previous_end}")
            labels = previous_labels + [label for label in labels if label not in previous_labels]
        self.regions[identifier] = (start, end, list(dict.fromkeys(labels)), item, number)

    def _code_point_offsets(self, start: int, end: int, region_text: str) -> Tuple[int, int]:
        """
        The offsets of a region whose text does not match them when they count UTF-16 code units, as
        JavaScript strings do and some Label Studio versions store them: after an emoji or another
        character beyond U+FFFF they run ahead of Python's (code points). Converted when the region's
        text then matches; otherwise `(start, end)` unchanged, for the checks' error.
        """
        if self._utf16_to_code_point is None:
            self._utf16_to_code_point = {}
            units = 0
            for index, character in enumerate(self.text):
                self._utf16_to_code_point[units] = index
                units += 2 if ord(character) > 0xFFFF else 1
            self._utf16_to_code_point[units] = len(self.text)
        converted = self._utf16_to_code_point.get(start), self._utf16_to_code_point.get(end)
        if None in converted or self.text[converted[0] : converted[1]] != region_text:
            return start, end
        return converted  # type: ignore[return-value]

    def entities_and_relations(self) -> Tuple[List[BratEntity], List[Union[CharRelation, Skipped]]]:
        entities: Dict[str, BratEntity] = {}
        for identifier, (start, end, labels, item, number) in self.regions.items():
            if len(labels) != 1:
                reason = (
                    "the region has no label"
                    if not labels
                    else f"a span takes one entity type, the region has {len(labels)}: {', '.join(labels)}"
                )
                self.skipped.append(self.report("entity", item, reason))
                continue
            where = f"{self.location}, result {number} (region {identifier})"
            if self.types is not None and labels[0] not in self.types.entity_types:
                raise DataError(
                    f"{where}: entity type {labels[0]!r} is not in the types file "
                    f"(known: {', '.join(self.types.entity_types)})"
                )
            span = trimmed_span(self.text, start, end)
            if span is None:
                raise DataError(f"{where}: the region covers only whitespace")
            entities[identifier] = BratEntity(identifier, labels[0], span[0], span[1], self.index)
        relations: List[Union[CharRelation, Skipped]] = []
        for item, number in self.relation_items:
            relations.extend(self._relations(item, number, entities))
        return list(entities.values()), relations

    def _relations(
        self, item: Dict[str, Any], number: int, entities: Dict[str, BratEntity]
    ) -> List[Union[CharRelation, Skipped]]:
        where = f"{self.location}, result {number}"
        ends = []
        for role in ("from_id", "to_id"):
            target = item.get(role)
            if target is None or str(target) not in set(self.regions) | self.other_ids:
                raise DataError(f"{where}: the relation's {role} {target!r} is no region of this annotation")
            ends.append(str(target))
        direction = item.get("direction", "right")
        if direction not in DIRECTIONS:
            raise DataError(f"{where}: direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
        labels = item.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise DataError(f"{where}: 'labels' must be a list of strings")
        for label in labels:
            if self.types is not None and label not in self.types.relation_types:
                raise DataError(
                    f"{where}: relation type {label!r} is not in the types file "
                    f"(known: {', '.join(self.types.relation_types)})"
                )
        left_out = [end for end in ends if end not in entities]
        if left_out:
            reason = f"its region {left_out[0]} is not an entity (reported on its own)"
            return [self.report("relation", item, reason)]
        if not labels:
            return [self.report("relation", item, "the relation has no label")]
        head, tail = ends if direction != "left" else ends[::-1]
        annotation = json.dumps(item, ensure_ascii=False)
        relations: List[Union[CharRelation, Skipped]] = []
        for label in dict.fromkeys(labels):
            if direction == "bi":
                if self.types is None or label not in self.types.symmetric_relations:
                    known = "the types file does not mark it symmetric" if self.types else "no types file is given"
                    reason = f"a bidirectional {label!r} relation, and {known}"
                    relations.append(self.report("relation", item, reason))
                    continue
                # a symmetric relation, once, in text order (as brat's equivalences)
                first, second = sorted(ends, key=lambda end: (entities[end].start, entities[end].end))
                relations.append(CharRelation(first, second, label, self.index, "relation", annotation))
            else:
                relations.append(CharRelation(head, tail, label, self.index, "relation", annotation))
        return relations

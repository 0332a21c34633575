"""
doccano's JSONL export of a sequence labeling project with relations ("relation extraction"): one
JSON object per line,

    {"id": 7, "text": "Ada works for Acme.",
     "entities": [{"id": 1, "label": "Person", "start_offset": 0, "end_offset": 3}, ...],
     "relations": [{"id": 1, "from_id": 1, "to_id": 2, "type": "Works_For"}, ...]}

with exclusive end offsets in characters of `text`; other keys ("Comments", metadata) are ignored,
but for `orig_id`, which names the document when present (this package writes it; doccano keeps
it as metadata), else `id`, else the line. A sequence labeling project without relations exports
`{"text": ..., "label": [[start, end, "Person"], ...]}`, read as entities without relations. A
record with neither `entities`/`relations` nor `label` is unannotated text.

The text becomes sentences of words as brat text does (`brat_sentences.text_sentences`): an entity
boundary inside a word splits the word, an entity across a sentence boundary joins the sentences.
What cannot be represented (a relation across sentences or from an entity to itself) is reported as
a `Skipped` with the record's line; malformed records raise a `DataError` naming the file, line and
record id. `doccano_to_spert` and `spert_to_doccano` convert between the export and SpERT JSON.
"""

import json
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language

from spert_mt_plugin.formats.brat import BratEntity, Skipped
from spert_mt_plugin.formats.brat_sentences import CharRelation, text_sentences, trimmed_span
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, is_integer
from spert_mt_plugin.formats.spert_documents import records_to_spert
from spert_mt_plugin.formats.spert_json import is_annotated, iter_json_documents, require
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.text_documents import text_documents
from spert_mt_plugin.formats.types_file import EntityRelationTypes

# (character start, exclusive end, type, score or None) and (head index, tail index, type, score or None)
CharEntity = Tuple[int, int, str, Optional[float]]
IndexRelation = Tuple[int, int, str, Optional[float]]


def read_file(
    path: str, nlp: Language, types: Optional[EntityRelationTypes] = None
) -> Iterator[Tuple[List[Skipped], List[Tuple[str, Sentence]]]]:
    """
    For each record of the doccano JSONL file `path`: the report of what cannot be represented and
    its `(location, Sentence)` pairs, not yet validated. With `types`, every entity and relation
    type must be one of them.
    """
    for where, record in iter_json_documents(path):
        yield record_sentences(record, where, path, nlp, types)


def record_sentences(
    record: Any, where: str, path: str, nlp: Language, types: Optional[EntityRelationTypes] = None
) -> Tuple[List[Skipped], List[Tuple[str, Sentence]]]:
    """
    One record's report and located sentences. `where`: the file and line (or index) of the record,
    as `spert_json.iter_json_documents` gives it.
    """
    number = int(where.rsplit(" ", 1)[1])
    location = where
    if isinstance(record, dict) and record.get("id") is not None:
        location = f"{where} (id {record['id']})"
    text = require(record, "text", str, location)
    name = _name(record, f"line{number}")
    entities: Optional[List[BratEntity]] = None
    relations: List[Union[CharRelation, Skipped]] = []
    if is_annotated(record, ("entities", "relations"), location):
        entities = _entities(record, text, location, number, types)
        relations = _relations(record, {entity.id for entity in entities}, location, number, types)
    elif "label" in record:
        entities = _labels(record, text, location, number, types)
    sentences, skipped = text_sentences(text, entities, relations, nlp, name, path)
    return skipped, [(f"{location}, sentence {index}", sentence) for index, (sentence, _) in enumerate(sentences)]


def _name(record: Dict[str, Any], default: str) -> str:
    for key in ("orig_id", "id"):
        if record.get(key) is not None and str(record[key]).strip():
            return str(record[key])
    return default


def _entity(
    text: str, start: Any, end: Any, label: Any, where: str, types: Optional[EntityRelationTypes]
) -> Tuple[int, int, str]:
    """The trimmed span and type of one entity; a `DataError` naming `where` for a bad one."""
    if not (is_integer(start) and is_integer(end)):
        raise DataError(f"{where}: start and end offsets must be integers, got {start!r} and {end!r}")
    if not 0 <= start < end <= len(text):
        raise DataError(
            f"{where}: offsets {start}-{end} are outside the text ({len(text)} characters, "
            f"need 0 <= start < end <= {len(text)})"
        )
    if not isinstance(label, str) or not label:
        raise DataError(f"{where}: the label must be a non-empty string, got {label!r}")
    if types is not None and label not in types.entity_types:
        raise DataError(
            f"{where}: entity type {label!r} is not in the types file (known: {', '.join(types.entity_types)})"
        )
    span = trimmed_span(text, start, end)
    if span is None:
        raise DataError(f"{where}: the entity covers only whitespace")
    return span[0], span[1], label


def _entities(
    record: Dict[str, Any], text: str, location: str, line: int, types: Optional[EntityRelationTypes]
) -> List[BratEntity]:
    items = require(record, "entities", list, location)
    entities: Dict[str, BratEntity] = {}
    for index, item in enumerate(items):
        where = f"{location}, entity {index}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected an object with id, label, start_offset and end_offset")
        missing = [key for key in ("id", "label", "start_offset", "end_offset") if key not in item]
        if missing:
            raise DataError(f"{where}: missing {', '.join(repr(key) for key in missing)}")
        identifier = str(item["id"])
        if identifier in entities:
            raise DataError(f"{where}: the entity id {item['id']!r} is already used in this record")
        start, end, label = _entity(text, item["start_offset"], item["end_offset"], item["label"], where, types)
        entities[identifier] = BratEntity(identifier, label, start, end, line)
    return list(entities.values())


def _relations(
    record: Dict[str, Any], entity_ids: set, location: str, line: int, types: Optional[EntityRelationTypes]
) -> List[Union[CharRelation, Skipped]]:
    items = require(record, "relations", list, location)
    relations: List[Union[CharRelation, Skipped]] = []
    for index, item in enumerate(items):
        where = f"{location}, relation {index}"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected an object with from_id, to_id and type")
        missing = [key for key in ("from_id", "to_id", "type") if key not in item]
        if missing:
            raise DataError(f"{where}: missing {', '.join(repr(key) for key in missing)}")
        for role in ("from_id", "to_id"):
            if str(item[role]) not in entity_ids:
                raise DataError(f"{where}: {role} {item[role]!r} is not an entity id of this record")
        label = item["type"]
        if not isinstance(label, str) or not label:
            raise DataError(f"{where}: the type must be a non-empty string, got {label!r}")
        if types is not None and label not in types.relation_types:
            raise DataError(
                f"{where}: relation type {label!r} is not in the types file (known: {', '.join(types.relation_types)})"
            )
        annotation = json.dumps(item, ensure_ascii=False)
        relations.append(CharRelation(str(item["from_id"]), str(item["to_id"]), label, line, "relation", annotation))
    return relations


def _labels(
    record: Dict[str, Any], text: str, location: str, line: int, types: Optional[EntityRelationTypes]
) -> List[BratEntity]:
    """The entities of a sequence labeling export: `"label": [[start, end, type], ...]`."""
    items = require(record, "label", list, location)
    entities = []
    for index, item in enumerate(items):
        where = f"{location}, label {index}"
        if not (isinstance(item, list) and len(item) == 3):
            raise DataError(f"{where}: expected [start_offset, end_offset, label], got {item!r}")
        start, end, label = _entity(text, item[0], item[1], item[2], where, types)
        entities.append(BratEntity(f"label {index}", label, start, end, line))
    return entities


def record(name: str, text: str, entities: Sequence[CharEntity], relations: Sequence[IndexRelation]) -> Dict[str, Any]:
    """
    The doccano record of a text: entities by character offsets, relations by index into
    `entities`. doccano has no scores: scores are left out. `name` goes under `orig_id`, which
    doccano keeps as metadata and exports again.
    """
    return {
        "text": text,
        "entities": [
            {"id": index, "label": label, "start_offset": start, "end_offset": end}
            for index, (start, end, label, _) in enumerate(entities, start=1)
        ],
        "relations": [
            {"id": index, "from_id": head + 1, "to_id": tail + 1, "type": label}
            for index, (head, tail, label, _) in enumerate(relations, start=1)
        ],
        "orig_id": name,
    }


def doccano_to_spert(
    path: str, types_file: Optional[str] = None, language: str = "en"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a doccano JSONL export (`orig_id` `name#N`, the record's name as
    `formats.doccano` gives it), its types (from `types_file`, else the labels seen) and the report
    of what could not be represented. A record without annotation gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    records = read_file(path, blank_pipeline(language), types)
    return records_to_spert(records, types)


def spert_to_doccano(path: str) -> List[Dict[str, Any]]:
    """
    doccano records (`formats.doccano.record`) of the documents of a SpERT JSON file, gold or
    `allennlp predict` output (see `text_documents`); doccano has no scores, so scores are left out.
    """
    return [record(d.name, d.text, d.entities, d.relations) for d in text_documents(path)]

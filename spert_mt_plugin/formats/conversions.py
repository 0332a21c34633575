"""
Conversions between brat standoff folders, doccano JSONL, Label Studio JSON, SpERT JSON and DyGIE
jsonl.

SpERT JSON is the hub: every other format is read into `Sentence`s and validated as the dataset
readers do (so conversion accepts exactly what training accepts), and written from SpERT documents
`{"tokens", "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
"orig_id"}`, where `orig_id` is `name#sentence` for a sentence of a multi-sentence document.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spert_mt_plugin.formats import doccano, dygie, label_studio, spert_json
from spert_mt_plugin.formats.atomic import atomic_open
from spert_mt_plugin.formats.brat import Skipped, write_brat_document
from spert_mt_plugin.formats.brat_sentences import read_folder
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, is_integer, validate_sentence
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.types_file import EntityRelationTypes

_SENTENCE_ID = re.compile(r"^(.*)#(\d+)$")


def sentence_to_spert(sentence: Sentence) -> Dict[str, Any]:
    document: Dict[str, Any] = {"tokens": sentence.tokens}
    if sentence.annotated:
        document["entities"] = [{"type": t, "start": s, "end": e} for s, e, t in sentence.entities]
        document["relations"] = [{"type": r, "head": h, "tail": t} for h, t, r in sentence.relations or []]
    if sentence.doc_id is not None:
        document["orig_id"] = sentence.doc_id
    return document


def _validated(items: Iterable[Tuple[str, Sentence]], types: Optional[EntityRelationTypes]) -> List[Sentence]:
    """The sentences of `items` that have words, validated against `types`; unannotated ones pass."""
    sentences = []
    for location, sentence in items:
        validate_sentence(sentence, location, types, require_annotation=False)
        if sentence.tokens:
            sentences.append(sentence)
    return sentences


def brat_to_spert(
    folder: str, types_file: Optional[str] = None, language: str = "en"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a brat folder, its types (from `types_file`, a SpERT types file or an
    `annotation.conf`, or else the labels seen, equivalence types symmetric), and the report of
    what could not be represented. A `.txt` without `.ann` gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    documents, skipped = [], []
    entity_types: Counter = Counter()
    relation_types: Counter = Counter()
    equivalence_types = set()
    for document, located in read_folder(folder, blank_pipeline(language), types, require_annotation=False):
        sentences = _validated(located, types)
        skipped.extend(document.skipped)
        equivalence_types.update(label for label, _, _ in document.equivalences)
        for sentence in sentences:
            entity_types.update(t for _, _, t in sentence.entities or [])
            relation_types.update(r for _, _, r in sentence.relations or [])
            documents.append(sentence_to_spert(sentence))
    if types is None:
        types = EntityRelationTypes(
            sorted(entity_types), sorted(set(relation_types) | equivalence_types), set(equivalence_types)
        )
    return documents, types, skipped


def doccano_to_spert(
    path: str, types_file: Optional[str] = None, language: str = "en"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a doccano JSONL export (`orig_id` `name#N`, the record's name as
    `formats.doccano` gives it), its types (from `types_file`, else the labels seen) and the report
    of what could not be represented. A record without annotation gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    records = doccano.read_file(path, blank_pipeline(language), types)
    return _char_offsets_to_spert(records, types)


def labelstudio_to_spert(
    path: str, types_file: Optional[str] = None, language: str = "en", data_key: str = "text"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a Label Studio JSON export (`orig_id` `name#N`, the task's name as
    `formats.label_studio` gives it; the first annotation not cancelled), its types (from
    `types_file`, else the labels seen, none symmetric) and the report of what could not be
    represented. The text is `data[data_key]`; a task without annotations gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    tasks = label_studio.read_file(path, blank_pipeline(language), types, data_key)
    return _char_offsets_to_spert(tasks, types)


def _char_offsets_to_spert(
    records: Iterable[Tuple[List[Skipped], List[Tuple[str, Sentence]]]], types: Optional[EntityRelationTypes]
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    documents: List[Dict[str, Any]] = []
    skipped: List[Skipped] = []
    for record_skipped, located in records:
        skipped.extend(record_skipped)
        documents.extend(sentence_to_spert(sentence) for sentence in _validated(located, types))
    if types is None:
        entity_types = {entity["type"] for document in documents for entity in document.get("entities", [])}
        relation_types = {relation["type"] for document in documents for relation in document.get("relations", [])}
        types = EntityRelationTypes(sorted(entity_types), sorted(relation_types))
    return documents, types, skipped


def read_spert(path: str) -> List[Tuple[str, Dict[str, Any]]]:
    """(location, document) of a SpERT JSON array or JSON Lines file, predictions included."""
    return list(spert_json.iter_json_documents(path))


@dataclass
class TextDocument:
    """A document of a SpERT JSON file as text with character offsets, for the tools that annotate text."""

    name: str
    text: str
    # (character start, exclusive end, type, score or None)
    entities: List[Tuple[int, int, str, Optional[float]]]
    # (head index, tail index into `entities`, type, score or None)
    relations: List[Tuple[int, int, str, Optional[float]]]
    # the text was built from tokens (a sentence per line, tokens joined by single spaces)
    from_tokens: bool
    # model output: the predictor's document output, or scores on entities or relations
    predicted: bool


def text_documents(path: str) -> List[TextDocument]:
    """
    The documents of a SpERT JSON file (gold or `allennlp predict` output) as texts, in the order
    of their first sentence: sentences with ids `name#N` join into the document `name`, and the
    predictor's document output (`{"document": text, "sentences": [...]}`) keeps its text and
    character offsets (`char_start`/`char_end`). The text of other documents is their tokens joined
    by single spaces, a sentence per line. Documents without a name are named `docN` (N: their
    index in the file).
    """
    documents: List[TextDocument] = []
    groups: Dict[str, List[Tuple[str, Dict[str, Any]]]] = {}
    for index, (location, document) in enumerate(read_spert(path)):
        if not isinstance(document, dict):
            raise DataError(f"{location}: expected a JSON object")
        if "sentences" in document and isinstance(document.get("document"), str):
            documents.append(document_prediction(_name(document.get("orig_id"), f"doc{index}"), document, location))
            continue
        orig_id = document.get("orig_id")
        match = _SENTENCE_ID.match(str(orig_id)) if orig_id is not None else None
        name = _name(match.group(1) if match else orig_id, f"doc{index}")
        if name not in groups:
            groups[name] = []
            # a placeholder, filled once every sentence of the document is read
            documents.append(TextDocument(name, "", [], [], True, False))
        groups[name].append((location, document))
    return [_joined_sentences(d.name, groups[d.name]) if d.from_tokens else d for d in documents]


def _joined_sentences(name: str, sentences: List[Tuple[str, Dict[str, Any]]]) -> TextDocument:
    text_lines: List[str] = []
    entities: List[Tuple[int, int, str, Optional[float]]] = []
    relations: List[Tuple[int, int, str, Optional[float]]] = []
    offset = 0
    predicted = False
    for location, document in sentences:
        tokens = document.get("tokens")
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise DataError(f"{location}: 'tokens' must be a list of strings")
        starts = []
        position = offset
        for token in tokens:
            starts.append(position)
            position += len(token) + 1
        line = " ".join(tokens)
        base = len(entities)
        for number, entity in enumerate(document.get("entities", [])):
            start, end = _entity_bounds(entity, len(tokens), f"{location}, entity {number}")
            char_start, char_end = starts[start], starts[end - 1] + len(tokens[end - 1])
            entities.append((char_start, char_end, entity["type"], entity.get("score")))
            predicted = predicted or entity.get("score") is not None
        for number, relation in enumerate(document.get("relations", [])):
            head, tail = relation.get("head"), relation.get("tail")
            count = len(document.get("entities", []))
            if not (isinstance(head, int) and isinstance(tail, int) and 0 <= head < count and 0 <= tail < count):
                raise DataError(f"{location}, relation {number}: head/tail must index the {count} entities")
            relations.append((base + head, base + tail, relation["type"], relation.get("score")))
            predicted = predicted or relation.get("score") is not None
        text_lines.append(line)
        offset += len(line) + 1
    return TextDocument(name, "\n".join(text_lines), entities, relations, True, predicted)


def document_prediction(name: str, document: Dict[str, Any], location: str) -> TextDocument:
    """
    The predictor's output for a `{"document": text}` input (its `sentences` with `char_start` /
    `char_end` on every entity) as a `TextDocument` of the original text; `location` names it in errors.
    """
    text = document["document"]
    entities, relations = [], []
    for number, sentence in enumerate(document["sentences"]):
        base = len(entities)
        for entity in sentence.get("entities", []):
            if "char_start" not in entity or "char_end" not in entity:
                raise DataError(f"{location}, sentence {number}: document predictions need char_start/char_end")
            start, end = entity["char_start"], entity["char_end"]
            if not (is_integer(start) and is_integer(end) and 0 <= start < end <= len(text)):
                raise DataError(
                    f"{location}, sentence {number}: char_start/char_end {start!r}-{end!r} are not offsets "
                    f"into the document's {len(text)} characters"
                )
            entities.append((start, end, entity["type"], entity.get("score")))
        count = len(sentence.get("entities", []))
        for relation in sentence.get("relations", []):
            head, tail = relation.get("head"), relation.get("tail")
            if not (is_integer(head) and is_integer(tail) and 0 <= head < count and 0 <= tail < count):
                raise DataError(f"{location}, sentence {number}: head/tail must index the {count} entities")
            relations.append((base + head, base + tail, relation["type"], relation.get("score")))
    return TextDocument(name, document["document"], entities, relations, False, True)


def spert_to_brat(path: str, folder: str) -> int:
    """
    Writes the documents of a SpERT JSON file (gold or `allennlp predict` output) as brat pairs,
    one per document (see `text_documents`; a token-level text ends with a newline). Scores become
    AnnotatorNotes. Returns the number of brat documents.
    """
    documents = text_documents(path)
    for document in documents:
        text = document.text + "\n" if document.from_tokens else document.text
        name = _safe_name(document.name, document.name)
        write_brat_document(Path(folder), name, text, document.entities, document.relations)
    return len(documents)


def spert_to_doccano(path: str) -> List[Dict[str, Any]]:
    """
    doccano records (`formats.doccano.record`) of the documents of a SpERT JSON file, gold or
    `allennlp predict` output (see `text_documents`); doccano has no scores, so scores are left out.
    """
    return [doccano.record(d.name, d.text, d.entities, d.relations) for d in text_documents(path)]


def spert_to_labelstudio(
    path: str,
    data_key: str = "text",
    predictions: Optional[bool] = None,
    model_version: str = "spert-mt",
    from_name: str = "label",
    to_name: str = "text",
) -> List[Dict[str, Any]]:
    """
    Label Studio tasks (`formats.label_studio.task`) of the documents of a SpERT JSON file (see
    `text_documents`). `predictions`: write the entities and relations as pre-annotations
    (`predictions`, with scores and `model_version`) or as completed `annotations`; `None` decides by
    the file: model output (the predictor's document output, or any score) gives predictions.
    """
    documents = text_documents(path)
    if predictions is None:
        predictions = any(document.predicted for document in documents)
    version = model_version if predictions else None
    return [
        label_studio.task(d.name, d.text, d.entities, d.relations, data_key, version, from_name, to_name)
        for d in documents
    ]


def _entity_bounds(entity: Any, length: int, where: str) -> Tuple[int, int]:
    integer_bounds = isinstance(entity, dict) and all(isinstance(entity.get(k), int) for k in ("start", "end"))
    if not integer_bounds or "type" not in entity:
        raise DataError(f"{where}: an entity needs integer 'start', 'end' and a 'type'")
    if not 0 <= entity["start"] < entity["end"] <= length:
        raise DataError(f"{where}: spans [{entity['start']}, {entity['end']}) outside the {length} tokens")
    return entity["start"], entity["end"]


def _name(value: Any, default: str) -> str:
    return default if value is None or not str(value).strip() else str(value)


def _safe_name(value: Any, default: str) -> str:
    if value is None or not str(value).strip():
        return default
    return re.sub(r"[^\w.-]+", "_", str(value))


def dygie_to_spert(path: str) -> List[Dict[str, Any]]:
    """SpERT documents, one per sentence, `orig_id` `doc_key#N`; validated as the readers do."""
    return [sentence_to_spert(s) for s in _validated(dygie.read_sentences(path), None)]


def spert_to_dygie(path: str, ptb_brackets: bool = True) -> List[Dict[str, Any]]:
    """
    DyGIE documents from SpERT ones: consecutive sentences `name#0`, `name#1`, ... join into the
    document `name`; others become one-sentence documents. `ptb_brackets` writes brackets as the
    DyGIE/SciERC files do (`-LRB-`). A document of unannotated sentences (no `entities` and
    `relations`) is written without `ner` and `relations`, which the DyGIE reader reads as
    unannotated; one that mixes annotated and unannotated sentences is a `DataError`.
    """
    escape = {v: k for k, v in dygie.PTB_BRACKETS.items()} if ptb_brackets else {}
    documents: List[Dict[str, Any]] = []
    # per document: the location of its first annotated and of its first unannotated sentence
    first_of_kind: List[Dict[bool, str]] = []
    current_key = None
    for index, (location, sentence) in enumerate(spert_json.read_sentences(path)):
        validate_sentence(sentence, location, require_annotation=False)
        match = _SENTENCE_ID.match(sentence.doc_id or "")
        key = match.group(1) if match else (sentence.doc_id or f"doc{index}")
        if not (match and key == current_key and documents):
            documents.append({"doc_key": key, "sentences": [], "ner": [], "relations": []})
            first_of_kind.append({})
            current_key = key if match else None
        first_of_kind[-1].setdefault(sentence.annotated, location)
        target = documents[-1]
        offset = sum(len(words) for words in target["sentences"])
        target["sentences"].append([escape.get(t, t) for t in sentence.tokens])
        entities = sentence.entities or []
        # document-level inclusive [start, end] of each entity
        spans = [[offset + s, offset + e - 1] for s, e, _ in entities]
        target["ner"].append([span + [t] for span, (_, _, t) in zip(spans, entities)])
        target["relations"].append([spans[h] + spans[t] + [r] for h, t, r in sentence.relations or []])
    for document, kinds in zip(documents, first_of_kind):
        if len(kinds) == 2:
            # DyGIE marks a whole document annotated or not (its reader looks for `ner` and
            # `relations` on the document); written as annotated, the unannotated sentences
            # would train as sentences without entities.
            raise DataError(
                f"{path}: DyGIE document {document['doc_key']!r} mixes annotated and unannotated "
                f"sentences ({kinds[True]} has 'entities' and 'relations', {kinds[False]} has "
                "neither); DyGIE marks a whole document annotated or not, so annotate all its "
                "sentences or none"
            )
        if True not in kinds:
            del document["ner"], document["relations"]
    return documents


def write_json(documents: List[Dict[str, Any]], path: str, lines: bool = False) -> None:
    """Writes `documents` as a JSON array (or JSON Lines), replacing `path` only once complete."""
    with atomic_open(path) as handle:
        if lines:
            for document in documents:
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        else:
            json.dump(documents, handle, ensure_ascii=False)

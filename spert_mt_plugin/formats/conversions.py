"""
Conversions between brat standoff folders, SpERT JSON and DyGIE jsonl.

SpERT JSON is the hub: every other format is read into `Sentence`s and validated as the dataset
readers do (so conversion accepts exactly what training accepts), and written from SpERT documents
`{"tokens", "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
"orig_id"}`, where `orig_id` is `name#sentence` for a sentence of a multi-sentence document.
"""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spert_mt_plugin.formats import dygie, spert_json
from spert_mt_plugin.formats.atomic import atomic_open
from spert_mt_plugin.formats.brat import Skipped, write_brat_document
from spert_mt_plugin.formats.brat_sentences import read_folder
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, validate_sentence
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


def read_spert(path: str) -> List[Tuple[str, Dict[str, Any]]]:
    """(location, document) of a SpERT JSON array or JSON Lines file, predictions included."""
    return list(spert_json.iter_json_documents(path))


def spert_to_brat(path: str, folder: str) -> int:
    """
    Writes the documents of a SpERT JSON file (gold or `allennlp predict` output) as brat pairs,
    one per document: sentences with ids `name#N` join into `name`, and the predictor's document
    output (`{"document": text, "sentences": [...]}`) keeps its text and character offsets. The
    text of token-level documents is their tokens joined by spaces, a sentence per line. Scores
    become AnnotatorNotes. Returns the number of brat documents.
    """
    groups: Dict[str, List[Tuple[str, Dict[str, Any]]]] = {}
    written = 0
    for index, (location, document) in enumerate(read_spert(path)):
        if not isinstance(document, dict):
            raise DataError(f"{location}: expected a JSON object")
        if "sentences" in document and isinstance(document.get("document"), str):
            name = _safe_name(document.get("orig_id"), f"doc{index}")
            _write_document_prediction(Path(folder), name, document, location)
            written += 1
            continue
        orig_id = document.get("orig_id")
        match = _SENTENCE_ID.match(str(orig_id)) if orig_id is not None else None
        name = _safe_name(match.group(1) if match else orig_id, f"doc{index}")
        groups.setdefault(name, []).append((location, document))
    for name, sentences in groups.items():
        text_lines, entities, relations = [], [], []
        offset = 0
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
            for number, relation in enumerate(document.get("relations", [])):
                head, tail = relation.get("head"), relation.get("tail")
                count = len(document.get("entities", []))
                if not (isinstance(head, int) and isinstance(tail, int) and 0 <= head < count and 0 <= tail < count):
                    raise DataError(f"{location}, relation {number}: head/tail must index the {count} entities")
                relations.append((base + head, base + tail, relation["type"], relation.get("score")))
            text_lines.append(line)
            offset += len(line) + 1
        write_brat_document(Path(folder), name, "\n".join(text_lines) + "\n", entities, relations)
        written += 1
    return written


def _write_document_prediction(folder: Path, name: str, document: Dict[str, Any], location: str) -> None:
    text = document["document"]
    entities, relations = [], []
    for number, sentence in enumerate(document["sentences"]):
        base = len(entities)
        for entity in sentence.get("entities", []):
            if "char_start" not in entity or "char_end" not in entity:
                raise DataError(f"{location}, sentence {number}: document predictions need char_start/char_end")
            entities.append((entity["char_start"], entity["char_end"], entity["type"], entity.get("score")))
        for relation in sentence.get("relations", []):
            head, tail = base + relation["head"], base + relation["tail"]
            relations.append((head, tail, relation["type"], relation.get("score")))
    write_brat_document(folder, name, text, entities, relations)


def _entity_bounds(entity: Any, length: int, where: str) -> Tuple[int, int]:
    integer_bounds = isinstance(entity, dict) and all(isinstance(entity.get(k), int) for k in ("start", "end"))
    if not integer_bounds or "type" not in entity:
        raise DataError(f"{where}: an entity needs integer 'start', 'end' and a 'type'")
    if not 0 <= entity["start"] < entity["end"] <= length:
        raise DataError(f"{where}: spans [{entity['start']}, {entity['end']}) outside the {length} tokens")
    return entity["start"], entity["end"]


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
    DyGIE/SciERC files do (`-LRB-`).
    """
    escape = {v: k for k, v in dygie.PTB_BRACKETS.items()} if ptb_brackets else {}
    documents: List[Dict[str, Any]] = []
    current_key = None
    for index, (location, sentence) in enumerate(spert_json.read_sentences(path)):
        validate_sentence(sentence, location, require_annotation=False)
        match = _SENTENCE_ID.match(sentence.doc_id or "")
        key = match.group(1) if match else (sentence.doc_id or f"doc{index}")
        if not (match and key == current_key and documents):
            documents.append({"doc_key": key, "sentences": [], "ner": [], "relations": []})
            current_key = key if match else None
        target = documents[-1]
        offset = sum(len(words) for words in target["sentences"])
        target["sentences"].append([escape.get(t, t) for t in sentence.tokens])
        entities = sentence.entities or []
        # document-level inclusive [start, end] of each entity
        spans = [[offset + s, offset + e - 1] for s, e, _ in entities]
        target["ner"].append([span + [t] for span, (_, _, t) in zip(spans, entities)])
        target["relations"].append([spans[h] + spans[t] + [r] for h, t, r in sentence.relations or []])
    return documents


def write_json(documents: List[Dict[str, Any]], path: str, lines: bool = False) -> None:
    """Writes `documents` as a JSON array (or JSON Lines), replacing `path` only once complete."""
    with atomic_open(path) as handle:
        if lines:
            for document in documents:
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        else:
            json.dump(documents, handle, ensure_ascii=False)

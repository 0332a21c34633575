"""
Conversions between brat standoff folders, SpERT JSON and DyGIE jsonl.

SpERT JSON is the hub: every other format is read through this package's dataset readers (so
conversion validates exactly as training does) and written from SpERT documents
`{"tokens", "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
"orig_id"}`, where `orig_id` is `name#sentence` for a sentence of a multi-sentence document.
"""
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spert_mt_plugin.dataset_readers.dygie_jsonl import PTB_BRACKETS, DygieJsonlReader
from spert_mt_plugin.dataset_readers.errors import DataError
from spert_mt_plugin.dataset_readers.span_relation_reader import Sentence, SpanRelationReader
from spert_mt_plugin.dataset_readers.spert_json import SpertJsonReader, _iter_json_documents
from spert_mt_plugin.dataset_readers.types_file import EntityRelationTypes
from spert_mt_plugin.formats.brat import Skipped, document_sentences, find_documents, read_brat_document, write_brat_document

_SENTENCE_ID = re.compile(r"^(.*)#(\d+)$")


def sentence_to_spert(sentence: Sentence) -> Dict[str, Any]:
    document: Dict[str, Any] = {"tokens": sentence.tokens}
    if sentence.annotated:
        document["entities"] = [{"type": t, "start": s, "end": e} for s, e, t in sentence.entities]
        document["relations"] = [{"type": r, "head": h, "tail": t} for h, t, r in sentence.relations or []]
    if sentence.doc_id is not None:
        document["orig_id"] = sentence.doc_id
    return document


def _validated(reader: SpanRelationReader, items: Iterable[Tuple[str, Sentence]]) -> List[Sentence]:
    sentences = []
    for location, sentence in items:
        reader.validate(sentence, location)
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
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe("sentencizer")
    reader = SpanRelationReader({}, types_file=types_file, require_annotation=False)
    types = reader.types
    symmetric = types.symmetric_relations if types is not None else None
    documents, skipped = [], []
    entity_types: Counter = Counter()
    relation_types: Counter = Counter()
    equivalence_types = set()
    for txt_path in find_documents(folder):
        document = read_brat_document(txt_path, types, require_annotation=False)
        pairs = document_sentences(document, nlp, symmetric)
        sentences = _validated(reader, ((f"{document.ann_path}, sentence {n}", s) for n, (s, _) in enumerate(pairs)))
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
    return list(_iter_json_documents(path))


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
            relations.append((base + relation["head"], base + relation["tail"], relation["type"], relation.get("score")))
    write_brat_document(folder, name, text, entities, relations)


def _entity_bounds(entity: Any, length: int, where: str) -> Tuple[int, int]:
    if not isinstance(entity, dict) or not all(isinstance(entity.get(k), int) for k in ("start", "end")) or "type" not in entity:
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
    reader = DygieJsonlReader({}, require_annotation=False)
    return [sentence_to_spert(s) for s in _validated(reader, reader._read_raw_sentences(path))]


def spert_to_dygie(path: str, ptb_brackets: bool = True) -> List[Dict[str, Any]]:
    """
    DyGIE documents from SpERT ones: consecutive sentences `name#0`, `name#1`, ... join into the
    document `name`; others become one-sentence documents. `ptb_brackets` writes brackets as the
    DyGIE/SciERC files do (`-LRB-`).
    """
    escape = {v: k for k, v in PTB_BRACKETS.items()} if ptb_brackets else {}
    reader = SpertJsonReader({}, require_annotation=False)
    documents: List[Dict[str, Any]] = []
    current_key = None
    for index, (location, sentence) in enumerate(reader._read_sentences(path)):
        reader.validate(sentence, location)
        match = _SENTENCE_ID.match(sentence.doc_id or "")
        key = match.group(1) if match else (sentence.doc_id or f"doc{index}")
        if not (match and key == current_key and documents):
            documents.append({"doc_key": key, "sentences": [], "ner": [], "relations": []})
            current_key = key if match else None
        target = documents[-1]
        offset = sum(len(words) for words in target["sentences"])
        target["sentences"].append([escape.get(t, t) for t in sentence.tokens])
        entities = sentence.entities or []
        target["ner"].append([[offset + s, offset + e - 1, t] for s, e, t in entities])
        target["relations"].append(
            [
                [offset + entities[h][0], offset + entities[h][1] - 1, offset + entities[t][0], offset + entities[t][1] - 1, r]
                for h, t, r in sentence.relations or []
            ]
        )
    return documents


def write_json(documents: List[Dict[str, Any]], path: str, lines: bool = False) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        if lines:
            for document in documents:
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        else:
            json.dump(documents, handle, ensure_ascii=False)

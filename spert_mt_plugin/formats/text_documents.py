"""
The documents of a SpERT JSON file (gold or `allennlp predict` output) as texts with character
offsets, what the text-annotation tools annotate: the exports to brat (`brat.spert_to_brat`),
doccano (`doccano.spert_to_doccano`) and Label Studio (`label_studio_conversion`) start here.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from spert_mt_plugin.formats import spert_json
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import is_integer
from spert_mt_plugin.formats.spert_json import SENTENCE_ID


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
        match = SENTENCE_ID.match(str(orig_id)) if orig_id is not None else None
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


def _entity_bounds(entity: Any, length: int, where: str) -> Tuple[int, int]:
    integer_bounds = isinstance(entity, dict) and all(isinstance(entity.get(k), int) for k in ("start", "end"))
    if not integer_bounds or "type" not in entity:
        raise DataError(f"{where}: an entity needs integer 'start', 'end' and a 'type'")
    if not 0 <= entity["start"] < entity["end"] <= length:
        raise DataError(f"{where}: spans [{entity['start']}, {entity['end']}) outside the {length} tokens")
    return entity["start"], entity["end"]


def _name(value: Any, default: str) -> str:
    return default if value is None or not str(value).strip() else str(value)

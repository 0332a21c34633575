"""
SpERT JSON: a JSON array (or JSON Lines) of documents `{"tokens": [...], "entities": [{"type",
"start", "end"}], "relations": [{"type", "head", "tail"}], "orig_id": ...}`, with exclusive entity
ends and relations pointing into `entities`. Also the JSON helpers the DyGIE format shares.
"""

import json
import re
from typing import Any, Iterator, Tuple

from allennlp.common.file_utils import cached_path

from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence

# The `orig_id` of a sentence of a multi-sentence document: `name#N` (N from 0).
SENTENCE_ID = re.compile(r"^(.*)#(\d+)$")


def iter_json_documents(file_path: str) -> Iterator[Tuple[str, Any]]:
    """
    Yields `(location, document)` from a JSON array or from JSON Lines (one document per line).
    `location` names the file and the document index or line, for error messages.
    """
    try:
        with open(cached_path(file_path), encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise DataError(f"{file_path}, line {line}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if text.lstrip().startswith("["):
        for index, document in enumerate(_parse_json(text, file_path, with_position=True)):
            yield f"{file_path}, document {index}", document
        return
    # Lines end at "\n" (text mode turns "\r\n" and "\r" into "\n"): str.splitlines() would also
    # cut at U+2028, U+0085 and other characters that JSON allows unescaped inside a string.
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        location = f"{file_path}, line {line_number}"
        yield location, _parse_json(line, location)


def _parse_json(text: str, location: str, with_position: bool = False) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        position = f" at line {error.lineno}, column {error.colno}" if with_position else ""
        raise DataError(f"{location}: malformed JSON{position}: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        # an integer of more digits than Python converts (4300), or arrays nested too deeply
        raise DataError(f"{location}: malformed JSON: {error}") from None


def require(document: Any, key: str, kind: type, location: str) -> Any:
    """`document[key]`, which must be a `kind`; else a `DataError` naming `location`."""
    if not isinstance(document, dict):
        raise DataError(f"{location}: expected a JSON object, got {type(document).__name__}")
    if key not in document:
        raise DataError(f"{location}: missing key {key!r}")
    value = document[key]
    if not isinstance(value, kind):
        raise DataError(f"{location}: {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def is_annotated(document: dict, keys: Tuple[str, str], location: str) -> bool:
    """
    Whether `document` carries its annotation: both `keys` present (annotated, empty lists
    allowed) or neither (unannotated text); one without the other is an error.
    """
    present = [key for key in keys if key in document]
    if len(present) == 1:
        missing = keys[1] if present == [keys[0]] else keys[0]
        raise DataError(
            f"{location}: has {present[0]!r} but no {missing!r}; give both (an annotated "
            "document, empty lists allowed) or neither (unannotated text)"
        )
    return bool(present)


def read_sentences(file_path: str) -> Iterator[Tuple[str, Sentence]]:
    """
    `(location, Sentence)` for each document of a SpERT JSON file, not yet validated (see
    `validate_sentence`). A document without both `entities` and `relations` is an unannotated
    sentence; one of the two alone is an error.
    """
    for location, document in iter_json_documents(file_path):
        tokens = require(document, "tokens", list, location)
        doc_id = document.get("orig_id")
        if doc_id is not None:
            location = f"{location} (orig_id {doc_id})"
            doc_id = str(doc_id)
        if not is_annotated(document, ("entities", "relations"), location):
            yield location, Sentence(tokens, None, None, doc_id)
            continue
        for key in ("entities", "relations"):
            if not isinstance(document[key], list):
                raise DataError(f"{location}: {key!r} must be a list")
        entities = [
            _fields(entity, ("start", "end"), f"{location}, entity {index}")
            for index, entity in enumerate(document["entities"])
        ]
        relations = [
            _fields(relation, ("head", "tail"), f"{location}, relation {index}")
            for index, relation in enumerate(document["relations"])
        ]
        yield location, Sentence(tokens, entities, relations, doc_id)


def _fields(item: Any, ends: Tuple[str, str], location: str) -> Tuple[int, int, str]:
    """An entity's `(start, end, type)` or a relation's `(head, tail, type)`."""
    first, second = (require(item, key, int, location) for key in ends)
    return first, second, require(item, "type", str, location)

import json
from typing import Any, Iterable, Iterator, Tuple

from allennlp.common.file_utils import cached_path
from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.errors import DataError
from spert_mt_plugin.dataset_readers.span_relation_reader import Sentence, SpanRelationReader


def _iter_json_documents(file_path: str) -> Iterator[Tuple[str, Any]]:
    """
    Yields `(location, document)` from a JSON array or from JSON Lines (one document per line).
    `location` names the file and the document index or line, for error messages.
    """
    with open(cached_path(file_path), encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("["):
        try:
            documents = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(
                f"{file_path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None
        for index, document in enumerate(documents):
            yield f"{file_path}, document {index}", document
        return
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{file_path}, line {line_number}: malformed JSON: {error.msg}") from None
        yield f"{file_path}, line {line_number}", document


def _require(document: Any, key: str, kind: type, location: str) -> Any:
    if not isinstance(document, dict):
        raise DataError(f"{location}: expected a JSON object, got {type(document).__name__}")
    if key not in document:
        raise DataError(f"{location}: missing key {key!r}")
    value = document[key]
    if not isinstance(value, kind):
        raise DataError(f"{location}: {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _is_annotated(document: dict, keys: Tuple[str, str], location: str) -> bool:
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


@DatasetReader.register("spert_json")
class SpertJsonReader(SpanRelationReader):
    """
    Reads the SpERT JSON format: a JSON array (or JSON Lines) of documents
    `{"tokens": [...], "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
    "orig_id": ...}` with exclusive entity ends and relations pointing into `entities`.
    A document without both `entities` and `relations` is unannotated text: read for prediction,
    an error in training and evaluation (see `require_annotation`); one of the two alone is an
    error.

    Registered as a `DatasetReader` with name "spert_json". Parameters: see `SpanRelationReader`.
    """

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        for location, document in _iter_json_documents(file_path):
            tokens = _require(document, "tokens", list, location)
            doc_id = document.get("orig_id")
            if doc_id is not None:
                location = f"{location} (orig_id {doc_id})"
            if not _is_annotated(document, ("entities", "relations"), location):
                yield location, Sentence(tokens, None, None, None if doc_id is None else str(doc_id))
                continue
            for key in ("entities", "relations"):
                if not isinstance(document[key], list):
                    raise DataError(f"{location}: {key!r} must be a list")
            entities, relations = [], []
            for index, entity in enumerate(document["entities"]):
                where = f"{location}, entity {index}"
                entities.append(
                    (
                        _require(entity, "start", int, where),
                        _require(entity, "end", int, where),
                        _require(entity, "type", str, where),
                    )
                )
            for index, relation in enumerate(document["relations"]):
                where = f"{location}, relation {index}"
                relations.append(
                    (
                        _require(relation, "head", int, where),
                        _require(relation, "tail", int, where),
                        _require(relation, "type", str, where),
                    )
                )
            yield location, Sentence(tokens, entities, relations, None if doc_id is None else str(doc_id))

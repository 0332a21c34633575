"""
The SpERT JSON reader under fuzzing (hypothesis): valid files give exactly their annotation; a file
with one broken field, or broken bytes, gives a `DataError` naming the file and the document, or (if
still valid) exactly what the format's description says it holds. See `fuzz_common`.
"""

import json
from pathlib import Path
from typing import Any, List, Optional, Tuple

from hypothesis import given, note
from hypothesis import strategies as st

from spert_mt_plugin.dataset_readers import SpertJsonReader
from spert_mt_plugin.labels import NO_ENTITY
from tests.dataset_readers.fuzz_common import (
    FUZZ,
    INDEXERS,
    TOKEN,
    Invalid,
    Read,
    annotation,
    broken_bytes,
    is_int,
    json_documents,
    mutated,
    names,
    read,
    read_or_error,
    scratch_folder,
    type_names,
    write_types_json,
)

Types = Tuple[List[str], List[str]]


@st.composite
def spert_documents(draw, types: Types) -> dict:
    # one document in ten is empty (skipped by the reader)
    tokens = [] if draw(st.sampled_from(range(10))) == 9 else draw(st.lists(TOKEN, min_size=1, max_size=6))
    entities, relations = draw(annotation(len(tokens), *types))
    document = {
        "tokens": tokens,
        "entities": [{"type": label, "start": start, "end": end} for start, end, label in entities],
        "relations": [{"type": label, "head": head, "tail": tail} for head, tail, label in relations],
    }
    if draw(st.booleans()):
        document["orig_id"] = draw(st.one_of(st.none(), st.integers(-5, 10**12), st.text(max_size=4)))
    return document


@st.composite
def spert_files(draw):
    """`(types, documents, layout, ensure_ascii)` of a valid SpERT JSON file."""
    types = draw(type_names())
    documents = draw(st.lists(spert_documents(types), min_size=1, max_size=3))
    return types, documents, draw(st.sampled_from(["array", "indented array", "lines"])), draw(st.booleans())


def encode(documents: List[Any], layout: str, ensure_ascii: bool) -> bytes:
    if layout == "lines":
        text = "".join(json.dumps(document, ensure_ascii=ensure_ascii) + "\n" for document in documents)
    else:
        text = json.dumps(documents, ensure_ascii=ensure_ascii, indent=1 if layout == "indented array" else None)
    return text.encode("utf-8")


def location(path: Path, layout: str, index: int) -> str:
    return f"{path}, line {index + 1}" if layout == "lines" else f"{path}, document {index}"


def expected_instance(document: Any, types: Types, require_annotation: bool) -> Optional[Read]:
    """
    The oracle: what a SpERT JSON document holds according to the format's description, `None` for
    an empty sentence (skipped), `Invalid` for a document the reader must reject.
    """
    entity_types, relation_types = types
    if not isinstance(document, dict):
        raise Invalid("not an object")
    tokens = document.get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t and not t.isspace() for t in tokens):
        raise Invalid("tokens")
    orig_id = document.get("orig_id")
    doc_id = None if orig_id is None else str(orig_id)
    present = [key in document for key in ("entities", "relations")]
    if not any(present) and not require_annotation:
        return (tokens, None, None, doc_id) if tokens else None
    if not all(present) or not all(isinstance(document[key], list) for key in ("entities", "relations")):
        raise Invalid("annotation keys")
    entities, span_type = [], {}
    for entity in document["entities"]:
        if not (isinstance(entity, dict) and {"start", "end", "type"} <= entity.keys()):
            raise Invalid("entity keys")
        start, end, label = entity["start"], entity["end"], entity["type"]
        if not (is_int(start) and is_int(end) and isinstance(label, str) and 0 <= start < end <= len(tokens)):
            raise Invalid("entity")
        if label not in entity_types or label == NO_ENTITY or span_type.setdefault((start, end), label) != label:
            raise Invalid("entity type")
        entities.append((start, end, label))
    relations, pair_type = [], {}
    for relation in document["relations"]:
        if not (isinstance(relation, dict) and {"head", "tail", "type"} <= relation.keys()):
            raise Invalid("relation keys")
        head, tail, label = relation["head"], relation["tail"], relation["type"]
        if not (is_int(head) and is_int(tail) and isinstance(label, str)):
            raise Invalid("relation")
        if not (0 <= head < len(entities) and 0 <= tail < len(entities)) or head == tail:
            raise Invalid("relation arguments")
        if label not in relation_types or pair_type.setdefault((head, tail), label) != label:
            raise Invalid("relation type")
        relations.append((head, tail, label))
    return (tokens, entities, relations, doc_id) if tokens else None


def expected_file(raw: bytes, path: Path, types: Types, require_annotation: bool) -> List[Read]:
    """The oracle for a whole file: its instances, or `Invalid(location of the first bad document)`."""
    instances = []
    try:
        for where, document in json_documents(raw, path):
            try:
                instance = expected_instance(document, types, require_annotation)
            except Invalid:
                raise Invalid(where) from None
            if instance is not None:
                instances.append(instance)
    except Invalid as invalid:
        location = invalid.args[0]
        raise Invalid(location if location.startswith(str(path)) else str(path)) from None
    return instances


def check_against_oracle(raw: bytes, types: Types, require_annotation: bool = True) -> None:
    with scratch_folder() as folder:
        folder = Path(folder)
        path = folder / "data.json"
        path.write_bytes(raw)
        reader = SpertJsonReader(
            INDEXERS, types_file=str(write_types_json(folder, *types)), require_annotation=require_annotation
        )
        instances, error = read_or_error(reader, path)
        note(f"read: {instances!r}, error: {error}")
        try:
            expected = expected_file(raw, path, types, require_annotation)
        except Invalid as invalid:
            assert error is not None, f"accepted a document the format rejects ({invalid}): {instances}"
            assert names(error, invalid.args[0]), f"the error does not name {invalid.args[0]}: {error}"
            return
        assert error is None, f"rejected a valid file: {error}"
        assert instances == expected


@FUZZ
@given(spert_files())
def test_valid_files_give_exactly_their_annotation(file):
    types, documents, layout, ensure_ascii = file
    with scratch_folder() as folder:
        folder = Path(folder)
        path = folder / "data.json"
        path.write_bytes(encode(documents, layout, ensure_ascii))
        reader = SpertJsonReader(INDEXERS, types_file=str(write_types_json(folder, *types)))
        expected = [
            (
                d["tokens"],
                [(e["start"], e["end"], e["type"]) for e in d["entities"]],
                [(r["head"], r["tail"], r["type"]) for r in d["relations"]],
                None if d.get("orig_id") is None else str(d["orig_id"]),
            )
            for d in documents
            if d["tokens"]
        ]
        assert read(reader, path) == expected


@FUZZ
@given(spert_files(), st.booleans(), st.data())
def test_one_broken_field_is_a_data_error_naming_file_and_document(file, require_annotation, data):
    types, documents, layout, ensure_ascii = file
    index = data.draw(st.integers(0, len(documents) - 1), label="document")
    type_list = types[0] + types[1]
    documents[index], how = data.draw(mutated(documents[index], type_list), label="mutation")
    note(how)
    check_against_oracle(encode(documents, layout, ensure_ascii), types, require_annotation)


@FUZZ
@given(spert_files(), st.data())
def test_broken_bytes_are_a_data_error_naming_the_file(file, data):
    types, documents, layout, ensure_ascii = file
    raw, how = data.draw(broken_bytes(encode(documents, layout, ensure_ascii)), label="bytes")
    note(how)
    check_against_oracle(raw, types)

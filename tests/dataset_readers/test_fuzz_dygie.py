"""
The DyGIE reader under fuzzing (hypothesis): valid files give exactly their annotation (document-
level inclusive indices made sentence-level exclusive, -LRB- style brackets restored, labels in the
types file's spelling); a file with one broken field, or broken bytes, gives a `DataError` naming
the file and the document, or (if still valid) exactly what the format's description says it holds.
See `fuzz_common`.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import given, note
from hypothesis import strategies as st

from spert_mt_plugin.dataset_readers import DygieJsonlReader
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
BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]"}


def resolve(label: str, names: List[str]) -> str:
    """
    The types file's spelling of a DyGIE label: the label itself when it is a type name, else the one
    type name that differs from it only in case; else the label (an unknown type).
    """
    if label in names:
        return label
    matches = [name for name in names if name.lower() == label.lower()]
    return matches[0] if len(matches) == 1 else label


@st.composite
def dygie_documents(draw, types: Types) -> Tuple[dict, List[Read]]:
    """A valid DyGIE document and the instances it holds."""
    entity_types, relation_types = types
    doc_key = draw(st.one_of(st.none(), st.text(max_size=4), st.integers(-3, 10**6))) if draw(st.booleans()) else None
    document: Dict[str, Any] = {"sentences": [], "ner": [], "relations": []}
    if doc_key is not None or draw(st.booleans()):
        document["doc_key"] = doc_key
    expected: List[Read] = []
    offset = 0

    def spelled(label: str, names: List[str]) -> str:
        # DyGIE files may spell a type in other case (USED-FOR for Used-for)
        variant = draw(st.sampled_from([label, label.upper(), label.lower()]))
        return variant if resolve(variant, names) == label else label

    for number in range(draw(st.integers(1, 3))):
        words = [] if draw(st.sampled_from(range(10))) == 9 else draw(st.lists(TOKEN, min_size=1, max_size=6))
        entities, relations = draw(annotation(len(words), entity_types, relation_types))
        # a relation names its entities by their spans: a repeated entity is its first occurrence
        first = {}
        for index, (start, end, _) in enumerate(entities):
            first.setdefault((start, end), index)
        relations = [(first[entities[h][:2]], first[entities[t][:2]], label) for h, t, label in relations]
        pair_type = {}
        relations = [
            (head, tail, label)
            for head, tail, label in relations
            if head != tail and pair_type.setdefault((head, tail), label) == label
        ]

        def span(index: int) -> List[int]:
            # document-level, inclusive end
            start, end, _ = entities[index]
            return [start + offset, end - 1 + offset]

        document["sentences"].append(words)
        document["ner"].append([[*span(i), spelled(label, entity_types)] for i, (_, _, label) in enumerate(entities)])
        document["relations"].append(
            [[*span(h), *span(t), spelled(label, relation_types)] for h, t, label in relations]
        )
        if words:
            doc_id = None if doc_key is None else f"{doc_key}#{number}"
            expected.append(([BRACKETS.get(w, w) for w in words], entities, relations, doc_id))
        offset += len(words)
    return document, expected


@st.composite
def dygie_files(draw):
    """`(types, documents, expected instances, layout, ensure_ascii)` of a valid DyGIE file."""
    types = draw(type_names())
    pairs = draw(st.lists(dygie_documents(types), min_size=1, max_size=3))
    documents = [document for document, _ in pairs]
    expected = [instance for _, instances in pairs for instance in instances]
    return types, documents, expected, draw(st.sampled_from(["lines", "lines", "array"])), draw(st.booleans())


def encode(documents: List[Any], layout: str, ensure_ascii: bool) -> bytes:
    if layout == "lines":
        return "".join(json.dumps(d, ensure_ascii=ensure_ascii) + "\n" for d in documents).encode("utf-8")
    return json.dumps(documents, ensure_ascii=ensure_ascii).encode("utf-8")


def expected_instances(document: Any, types: Types, require_annotation: bool) -> List[Read]:
    """
    The oracle: the instances of a DyGIE document according to the format's description, or
    `Invalid` for a document the reader must reject.
    """
    entity_types, relation_types = types
    if not isinstance(document, dict) or not isinstance(document.get("sentences"), list):
        raise Invalid("sentences")
    sentences, doc_key = document["sentences"], document.get("doc_key")
    present = [key in document for key in ("ner", "relations")]
    if any(present) and not all(present):
        raise Invalid("one annotation key")
    annotated = all(present)
    if annotated and not all(
        isinstance(document[key], list) and len(document[key]) == len(sentences) for key in ("ner", "relations")
    ):
        raise Invalid("annotation lists")
    instances: List[Read] = []
    offset = 0
    for number, words in enumerate(sentences):
        if not isinstance(words, list):
            raise Invalid("sentence")
        tokens = [BRACKETS.get(w, w) if isinstance(w, str) else w for w in words]
        if not all(isinstance(t, str) and t and not t.isspace() for t in tokens):
            raise Invalid("tokens")
        doc_id = None if doc_key is None else f"{doc_key}#{number}"
        if not annotated:
            if require_annotation:
                raise Invalid("unannotated")
            if tokens:
                instances.append((tokens, None, None, doc_id))
            offset += len(words)
            continue
        ner, relation_items = document["ner"][number], document["relations"][number]
        if not (isinstance(ner, list) and isinstance(relation_items, list)):
            raise Invalid("sentence annotation")
        entities: List[Tuple[int, int, str]] = []
        index_of: Dict[Tuple[int, int], int] = {}
        span_type: Dict[Tuple[int, int], str] = {}
        for item in ner:
            if not (isinstance(item, list) and len(item) == 3):
                raise Invalid("ner entry")
            first, last, label = item
            if not (is_int(first) and is_int(last) and isinstance(label, str)):
                raise Invalid("ner entry types")
            start, end, label = first - offset, last - offset + 1, resolve(label, entity_types)
            if not 0 <= start < end <= len(tokens):
                raise Invalid("entity range")
            if label not in entity_types or label == NO_ENTITY or span_type.setdefault((start, end), label) != label:
                raise Invalid("entity type")
            index_of.setdefault((first, last), len(entities))
            entities.append((start, end, label))
        relations: List[Tuple[int, int, str]] = []
        pair_type: Dict[Tuple[int, int], str] = {}
        for item in relation_items:
            if not (isinstance(item, list) and len(item) == 5):
                raise Invalid("relation entry")
            if not (all(is_int(v) for v in item[:4]) and isinstance(item[4], str)):
                raise Invalid("relation entry types")
            head, tail = index_of.get(tuple(item[0:2])), index_of.get(tuple(item[2:4]))
            label = resolve(item[4], relation_types)
            if head is None or tail is None or head == tail:
                raise Invalid("relation arguments")
            if label not in relation_types or pair_type.setdefault((head, tail), label) != label:
                raise Invalid("relation type")
            relations.append((head, tail, label))
        if tokens:
            instances.append((tokens, entities, relations, doc_id))
        offset += len(words)
    return instances


def expected_file(raw: bytes, path: Path, types: Types, require_annotation: bool) -> List[Read]:
    """The oracle for a whole file: its instances, or `Invalid(location of the first bad document)`."""
    instances: List[Read] = []
    try:
        for where, document in json_documents(raw, path):
            try:
                instances += expected_instances(document, types, require_annotation)
            except Invalid:
                raise Invalid(where) from None
    except Invalid as invalid:
        location = invalid.args[0]
        raise Invalid(location if location.startswith(str(path)) else str(path)) from None
    return instances


def check_against_oracle(raw: bytes, types: Types, require_annotation: bool = True) -> None:
    with scratch_folder() as folder:
        folder = Path(folder)
        path = folder / "data.jsonl"
        path.write_bytes(raw)
        types_file = str(write_types_json(folder, *types))
        reader = DygieJsonlReader(INDEXERS, types_file=types_file, require_annotation=require_annotation)
        instances, error = read_or_error(reader, path)
        note(f"read: {instances!r}, error: {error}")
        try:
            expected: Optional[List[Read]] = expected_file(raw, path, types, require_annotation)
        except Invalid as invalid:
            assert error is not None, f"accepted a document the format rejects ({invalid}): {instances}"
            assert names(error, invalid.args[0]), f"the error does not name {invalid.args[0]}: {error}"
            return
        assert error is None, f"rejected a valid file: {error}"
        assert instances == expected


@FUZZ
@given(dygie_files())
def test_valid_files_give_exactly_their_annotation(file):
    types, documents, expected, layout, ensure_ascii = file
    with scratch_folder() as folder:
        folder = Path(folder)
        path = folder / "data.jsonl"
        path.write_bytes(encode(documents, layout, ensure_ascii))
        reader = DygieJsonlReader(INDEXERS, types_file=str(write_types_json(folder, *types)))
        assert read(reader, path) == expected


@FUZZ
@given(dygie_files(), st.booleans(), st.data())
def test_one_broken_field_is_a_data_error_naming_file_and_document(file, require_annotation, data):
    types, documents, _, layout, ensure_ascii = file
    index = data.draw(st.integers(0, len(documents) - 1), label="document")
    documents[index], how = data.draw(mutated(documents[index], types[0] + types[1]), label="mutation")
    note(how)
    check_against_oracle(encode(documents, layout, ensure_ascii), types, require_annotation)


@FUZZ
@given(dygie_files(), st.data())
def test_broken_bytes_are_a_data_error_naming_the_file(file, data):
    types, documents, _, layout, ensure_ascii = file
    raw, how = data.draw(broken_bytes(encode(documents, layout, ensure_ascii)), label="bytes")
    note(how)
    check_against_oracle(raw, types)

"""
Shared pieces of the readers' property-based tests (`test_fuzz_*.py`): the hypothesis settings,
the readers, broken JSON values and the one-field mutations of a JSON document.

Each test file generates valid documents of its format, reads them with its reader and requires the
instances to say exactly what the documents say; then it breaks one field (or the file's bytes) and
requires either a `DataError` naming the file and the document, or, when the broken document
happens to be valid still, exactly the instances that an independent model of the format (an
"oracle", written from the format's description) expects. Any other exception fails the test.
"""

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from spert_mt_plugin.formats.errors import DataError
from tests.conftest import TINY_BERT

# Deterministic (derandomized: the same examples on every run, in CI too), no deadline (a busy CI
# machine is slow, not wrong) and no example database. SPERT_FUZZ_EXAMPLES searches harder locally.
EXAMPLES = int(os.environ.get("SPERT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    # the only function-scoped fixture is conftest's autouse chdir to the project root
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

INDEXERS = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}

# One instance as the tests compare it: its metadata's tokens, entities, relations and doc_id.
Read = Tuple[List[str], Optional[List[Tuple[int, int, str]]], Optional[List[Tuple[int, int, str]]], Optional[str]]


class Invalid(Exception):
    """The oracle's verdict on a document the reader must reject."""


def is_int(value: Any) -> bool:
    """A JSON integer: `true` and `false` are not positions."""
    return isinstance(value, int) and not isinstance(value, bool)


def read(reader, path: Path) -> List[Read]:
    result = []
    for instance in reader.read(str(path)):
        metadata = instance["metadata"].metadata
        result.append((metadata["tokens"], metadata.get("entities"), metadata.get("relations"), metadata["doc_id"]))
    return result


def read_or_error(reader, path: Path) -> Tuple[Optional[List[Read]], Optional[DataError]]:
    """The reader's instances, or the `DataError` it raised; any other exception propagates."""
    try:
        return read(reader, path), None
    except DataError as error:
        return None, error


def scratch_folder() -> tempfile.TemporaryDirectory:
    # hypothesis runs many examples per test: a fresh folder for each, not pytest's tmp_path
    return tempfile.TemporaryDirectory(prefix="spert-fuzz-")


# type names: few letters of mixed case, so that names differing only in case occur
TYPE_NAME = st.text(alphabet="abcABC_-", min_size=1, max_size=3)


@st.composite
def type_names(draw) -> Tuple[List[str], List[str]]:
    """`(entity types, relation types)` of a types file."""
    entity_types = draw(st.lists(TYPE_NAME, min_size=1, max_size=4, unique=True))
    relation_types = draw(st.lists(TYPE_NAME, min_size=1, max_size=3, unique=True))
    for names in (entity_types, relation_types):
        # often two names that differ only in case ("ORG" and "Org")
        variant = draw(st.sampled_from(names)).swapcase()
        if draw(st.booleans()) and variant not in names:
            names.insert(draw(st.integers(0, len(names))), variant)
    return entity_types, relation_types


def write_types_json(folder: Path, entity_types: List[str], relation_types: List[str]) -> Path:
    path = folder / "types.json"
    content = {
        "entities": {name: {"short": name, "verbose": name} for name in entity_types},
        "relations": {name: {"short": name, "verbose": name, "symmetric": False} for name in relation_types},
    }
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


# any character a UTF-8 file can hold (no lone surrogates), whitespace and line separators included
CHARACTER = st.characters(exclude_categories=("Cs",))
TOKEN = st.one_of(
    st.text(CHARACTER, min_size=1, max_size=5).filter(lambda t: not t.isspace()),
    st.sampled_from(["Bob", "Acme", ".", "-LRB-", "-RRB-", "a\u2028b", "x\x85y", "\u00e9t\u00e9", "NA"]),
)


@st.composite
def annotation(draw, length: int, entity_types: List[str], relation_types: List[str]):
    """
    Valid `(entities, relations)` of a sentence of `length` tokens: entities `(start, exclusive end,
    type)` with one type per span (the same entity twice is allowed), relations `(head, tail, type)`
    between two different entities with one type per pair (the same relation twice is allowed).
    """
    entities: List[Tuple[int, int, str]] = []
    span_type = {}
    if length:
        # (sampled_from: hypothesis's simplest examples draw the first choice, here three entities)
        for _ in range(draw(st.sampled_from([3, 2, 1, 0, 4, 5]))):
            start = draw(st.integers(0, length - 1))
            end = draw(st.integers(start + 1, length))
            label = span_type.setdefault((start, end), draw(st.sampled_from(entity_types)))
            entities.append((start, end, label))
    relations: List[Tuple[int, int, str]] = []
    pair_type = {}
    if len(entities) >= 2:
        for _ in range(draw(st.sampled_from([2, 1, 0, 3, 4]))):
            head = draw(st.integers(0, len(entities) - 1))
            tail = draw(st.integers(0, len(entities) - 2))
            tail += tail >= head
            label = pair_type.setdefault((head, tail), draw(st.sampled_from(relation_types)))
            relations.append((head, tail, label))
    return entities, relations


# Broken values of every JSON kind: wrong types, out of range, negative, NaN, infinite, huge, empty.
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from([-1, 2**31, 2**64, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 1.5, -0.0]),
    st.text(CHARACTER, max_size=4),
    st.sampled_from(["", " ", "0", "1", "NA", "\u2028", "-LRB-"]),
)
BROKEN_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(CHARACTER, max_size=3), children, max_size=2)
    ),
    max_leaves=4,
)


def json_paths(value: Any, prefix: Tuple = ()) -> Iterator[Tuple]:
    """The path (keys and indices) of every node of a JSON value, the value itself first."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, prefix + (index,))


def get(value: Any, path: Tuple) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw, document: Any, known_types: List[str]):
    """
    `document` (a JSON value, copied) with one field broken: replaced by a broken value, by another
    type name (or its other case, or an unknown one), by a neighbouring integer or the same number
    as another JSON type, deleted (a key or a list item), or a key added. Returns `(mutated
    document, description)`.
    """
    document = json.loads(json.dumps(document))
    # leaves first, the whole document last: hypothesis draws the first choices more often
    paths = list(json_paths(document))[::-1]
    # half of the mutations go to the annotation (its lists, entities, relations and their fields)
    fields = [path for path in paths if path and path[0] in ("entities", "relations", "ner")]
    path = draw(st.sampled_from(fields if fields and draw(st.booleans()) else paths))
    target = get(document, path)
    kinds = ["replace", "add key"] if isinstance(target, dict) else ["replace"]
    if path:
        kinds.append("delete")
    if isinstance(target, str):
        kinds.append("type name")
    if is_int(target):
        kinds += ["other type", "shift"]
    kind = draw(st.sampled_from(kinds))
    if kind == "replace":
        value = draw(BROKEN_VALUE)
    elif kind == "type name":
        value = draw(
            st.one_of(st.sampled_from(known_types), st.sampled_from([target.upper(), target.lower()]), TYPE_NAME)
        )
    elif kind == "shift":
        value = target + draw(st.sampled_from([-2, -1, 1, 2, 100]))
    elif kind == "other type":
        # the same number as another JSON type: 1.0, "1", true
        value = draw(st.sampled_from(([bool(target)] if target in (0, 1) else []) + [float(target), str(target)]))
    elif kind == "add key":
        key = draw(
            st.one_of(st.sampled_from(["tokens", "entities", "relations", "orig_id", "doc_key", "x"]), st.text())
        )
        target[key] = draw(BROKEN_VALUE)
        return document, f"add key {key!r} at {list(path)}"
    if kind == "delete":
        parent = get(document, path[:-1])
        del parent[path[-1]]
        return document, f"delete {list(path)}"
    if not path:
        return value, f"replace the document by {value!r}"
    get(document, path[:-1])[path[-1]] = value
    return document, f"set {list(path)} to {value!r}"


@st.composite
def broken_bytes(draw, raw: bytes):
    """
    The bytes of a file, broken: truncated, a byte changed, or bytes inserted (not UTF-8, deep
    nesting, huge numbers, NaN...). Returns `(bytes, description)`.
    """
    position = draw(st.integers(0, len(raw)))
    kind = draw(st.sampled_from(["truncate", "set byte", "insert"]))
    if kind == "truncate":
        return raw[:position], f"truncate at {position}"
    if kind == "set byte" and position < len(raw):
        byte = draw(st.integers(0, 255))
        return raw[:position] + bytes([byte]) + raw[position + 1 :], f"byte {position} = {byte:#x}"
    inserted = draw(
        st.one_of(
            st.binary(min_size=1, max_size=3),
            st.sampled_from([b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\n", b"\r\n", b",", b"]", b"{", b"\x00"]),
            st.sampled_from([b"[" * 100_000 + b"]" * 100_000, b"9" * 5000, b"1e999", b"NaN", b"-Infinity"]),
        )
    )
    return raw[:position] + inserted + raw[position:], f"insert {inserted[:20]!r} at {position}"


def json_documents(raw: bytes, path: Path) -> Iterator[Tuple[str, Any]]:
    """
    The documents of a SpERT JSON or DyGIE file with their locations, as the formats describe
    them: UTF-8 text holding a JSON array, or JSON Lines (one document per line; lines end at
    "\\n", "\\r\\n" or "\\r", as text files do; blank lines are skipped). `Invalid` when the file
    cannot be parsed.
    """
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        raise Invalid("not UTF-8") from None
    if text.lstrip().startswith("["):
        try:
            documents = json.loads(text)
        except (ValueError, RecursionError):
            raise Invalid("malformed JSON") from None
        yield from ((f"{path}, document {index}", document) for index, document in enumerate(documents))
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                document = json.loads(line)
            except (ValueError, RecursionError):
                raise Invalid(f"{path}, line {number}") from None
            yield f"{path}, line {number}", document


def names(error: DataError, location: str) -> bool:
    """Whether the message of `error` names `location` (`document 1`, not `document 10`)."""
    return re.search(re.escape(location) + r"(?![0-9])", str(error)) is not None

"""
brat standoff files (`.txt` + `.ann`): parsing and writing, and SpERT JSON written as brat
documents (`spert_to_brat`). How a parsed document becomes sentences is in `brat_sentences`.

What a sentence of this package can hold: contiguous entities (`T` lines with one fragment),
binary relations (`R`) between entities of one sentence, and equivalence sets (`*`) of a
symmetric relation type, expanded into a relation per pair. Everything else (discontinuous
entities, relations across sentences, events, attributes, normalisations, notes) is listed in
a report (`Skipped`) and counted in the log, never dropped silently. Malformed files raise a
`DataError` naming the file and line.
"""

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.text_documents import text_documents
from spert_mt_plugin.formats.types_file import EntityRelationTypes


@dataclass
class BratEntity:
    id: str
    type: str
    start: int
    end: int
    line: int


@dataclass
class BratRelation:
    id: str
    type: str
    head: str
    tail: str
    line: int


@dataclass
class Skipped:
    """An annotation that cannot be represented, for the report."""

    file: str
    line: int
    kind: str  # discontinuous entity, cross-sentence relation, event, attribute, ...
    annotation: str
    reason: str

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)


@dataclass
class BratDocument:
    name: str
    text: str
    ann_path: str
    entities: Dict[str, BratEntity] = field(default_factory=dict)
    relations: List[BratRelation] = field(default_factory=list)
    # (type, entity ids, line) of each equivalence set
    equivalences: List[Tuple[str, List[str], int]] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)
    annotated: bool = True


_SKIPPED_KINDS = {"E": "event", "A": "attribute", "M": "attribute", "N": "normalization", "#": "note"}


def read_brat_document(
    txt_path: Path, types: Optional[EntityRelationTypes] = None, require_annotation: bool = True
) -> BratDocument:
    """
    Parses `txt_path` and the `.ann` beside it. Without an `.ann` the document is unannotated
    text: an error if `require_annotation`.
    """
    ann_path = txt_path.with_suffix(".ann")
    # Offsets count every character of the file, "\r" included: no newline translation.
    text = _read_utf8(txt_path)
    document = BratDocument(txt_path.stem, text, str(ann_path))
    if not ann_path.is_file():
        if require_annotation:
            raise DataError(f"{txt_path}: no {ann_path.name} beside it (training and evaluation need annotation)")
        document.annotated = False
        return document
    # ids a relation may point at: every text-bound annotation (discontinuous ones too) and event
    argument_ids: Set[str] = set()
    pending_relations: List[BratRelation] = []
    first_lines: Dict[str, int] = {}
    # Lines end at "\n" ("\r\n" too): str.splitlines() would also cut at characters an entity's
    # text may hold (U+2028, U+0085, form feed...).
    for number, raw in enumerate(_read_utf8(ann_path).split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        where = f"{ann_path}, line {number}"
        # the text of a text-bound annotation is the rest of the line, tabs included
        fields = line.split("\t", 2)
        identifier = fields[0]
        if identifier[:1] in ("T", "R") and identifier in first_lines:
            raise DataError(f"{where}: the id {identifier} is already used on line {first_lines[identifier]}")
        first_lines[identifier] = number
        if identifier[:1] in _SKIPPED_KINDS:
            if identifier.startswith("E"):
                argument_ids.add(identifier)
            kind = _SKIPPED_KINDS[identifier[:1]]
            document.skipped.append(Skipped(str(ann_path), number, kind, line, f"{kind}s are not represented"))
            continue
        if len(fields) < 2:
            raise DataError(f"{where}: expected tab-separated fields, got {line!r}")
        if identifier.startswith("T"):
            _read_text_bound(document, fields, number, where, types)
            argument_ids.add(identifier)
        elif identifier.startswith("R"):
            parts = fields[1].split()
            arguments = dict(part.split(":", 1) for part in parts[1:] if ":" in part)
            if len(parts) != 3 or set(arguments) != {"Arg1", "Arg2"}:
                raise DataError(f"{where}: a relation must read 'Type Arg1:ID Arg2:ID', got {fields[1]!r}")
            _check_type(parts[0], types.relation_types if types else None, "relation", where)
            relation = BratRelation(identifier, parts[0], arguments["Arg1"], arguments["Arg2"], number)
            pending_relations.append(relation)
        elif identifier == "*":
            parts = fields[1].split()
            if len(parts) < 3:
                raise DataError(f"{where}: an equivalence must read 'Type ID ID ...', got {fields[1]!r}")
            _check_type(parts[0], types.relation_types if types else None, "relation", where)
            document.equivalences.append((parts[0], parts[1:], number))
        else:
            raise DataError(f"{where}: unknown annotation {identifier!r} (expected T, R, *, E, A, M, N or #)")
    for relation in pending_relations:
        for role, target in (("Arg1", relation.head), ("Arg2", relation.tail)):
            if target not in argument_ids:
                raise DataError(
                    f"{ann_path}, line {relation.line}: {role} {target} of {relation.id} is not an entity of this file"
                )
        document.relations.append(relation)
    for relation_type, members, number in document.equivalences:
        for member in members:
            if member not in argument_ids:
                raise DataError(
                    f"{ann_path}, line {number}: {member} of the {relation_type} equivalence is not an entity "
                    "of this file"
                )
    return document


def _read_utf8(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataError(f"{path}, line {line}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _check_type(label: str, known: Optional[List[str]], kind: str, where: str) -> None:
    if known is not None and label not in known:
        raise DataError(f"{where}: {kind} type {label!r} is not in the types file (known: {', '.join(known)})")


def _read_text_bound(
    document: BratDocument, fields: List[str], number: int, where: str, types: Optional[EntityRelationTypes]
) -> None:
    identifier = fields[0]
    match = re.fullmatch(r"(\S+) (\d+ \d+(?:;\d+ \d+)*)", fields[1])
    if match is None or len(fields) < 3:
        raise DataError(
            f"{where}: a text-bound annotation must read 'ID<TAB>Type START END<TAB>text', got {fields[1:]!r}"
        )
    label = match.group(1)
    fragments = [tuple(map(int, fragment.split())) for fragment in match.group(2).split(";")]
    text = document.text
    for start, end in fragments:
        if not 0 <= start < end <= len(text):
            raise DataError(
                f"{where}: offsets {start}-{end} of {identifier} are outside the text "
                f"({len(text)} characters, need 0 <= start < end <= {len(text)})"
            )
    covered = " ".join(text[start:end] for start, end in fragments)
    if covered != fields[2]:
        raise DataError(
            f"{where}: the text {fields[2]!r} of {identifier} does not match its offsets "
            f"{match.group(2)}, which cover {covered!r}"
        )
    _check_type(label, types.entity_types if types else None, "entity", where)
    if len(fragments) > 1:
        reason = "an entity must be one contiguous span"
        document.skipped.append(Skipped(document.ann_path, number, "discontinuous entity", "\t".join(fields), reason))
        return
    start, end = fragments[0]
    # Whitespace at the edges of a selection is not part of the entity.
    while text[start].isspace() and start < end - 1:
        start += 1
    while text[end - 1].isspace() and end - 1 > start:
        end -= 1
    if text[start:end].isspace():
        raise DataError(f"{where}: {identifier} covers only whitespace")
    document.entities[identifier] = BratEntity(identifier, label, start, end, number)


def find_documents(folder: str) -> List[Path]:
    """The `.txt` files of `folder` (recursively), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"{folder}: not a folder (the brat reader reads a folder of .txt/.ann pairs)")
    texts = sorted(root.rglob("*.txt"))
    if not texts:
        raise DataError(f"{folder}: no .txt files")
    return texts


def write_brat_document(
    folder: Path,
    name: str,
    text: str,
    entities: Iterable[Tuple[int, int, str, Optional[float]]],
    relations: Iterable[Tuple[int, int, str, Optional[float]]],
) -> None:
    """
    Writes `name.txt` and `name.ann`. `entities`: `(char start, char end, type, score or None)`;
    `relations`: `(head entity index, tail entity index, type, score or None)` into `entities`.
    Scores become AnnotatorNotes, which brat shows and keeps.
    """
    lines, notes = [], []
    entities = list(entities)
    for index, (start, end, label, score) in enumerate(entities, start=1):
        lines.append(f"T{index}\t{label} {start} {end}\t{text[start:end]}")
        if score is not None:
            notes.append((f"T{index}", score))
    for index, (head, tail, label, score) in enumerate(relations, start=1):
        lines.append(f"R{index}\t{label} Arg1:T{head + 1} Arg2:T{tail + 1}")
        if score is not None:
            notes.append((f"R{index}", score))
    for index, (target, score) in enumerate(notes, start=1):
        lines.append(f"#{index}\tAnnotatorNotes {target}\tscore {score:.4f}")
    # The reader lists documents by their .txt: written last, a new document appears only whole.
    write_text(folder / f"{name}.ann", "".join(line + "\n" for line in lines))
    write_text(folder / f"{name}.txt", text)


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


def _safe_name(value: Any, default: str) -> str:
    if value is None or not str(value).strip():
        return default
    return re.sub(r"[^\w.-]+", "_", str(value))

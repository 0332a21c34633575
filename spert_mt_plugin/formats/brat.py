"""
brat standoff files (`.txt` + `.ann`): parsing, turning a document into SpERT sentences, writing.

What a sentence of this package can hold: contiguous entities (`T` lines with one fragment),
binary relations (`R`) between entities of one sentence, and equivalence sets (`*`) of a
symmetric relation type, expanded into a relation per pair. Everything else (discontinuous
entities, relations across sentences, events, attributes, normalisations, notes) is listed in
a report (`Skipped`) and counted in the log, never dropped silently. Malformed files raise a
`DataError` naming the file and line.

Tokenisation: spaCy's rule-based tokenizer and sentencizer. An entity boundary inside a word splits
that word (`"anti-EGFR"` with an entity on `"EGFR"` gives the words `"anti-"` and `"EGFR"`): the
annotation wins over the tokenizer. An entity across a sentence boundary (a sentencizer error such
as "Dr. Smith") joins the two sentences.
"""
import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from spert_mt_plugin.dataset_readers.errors import DataError
from spert_mt_plugin.dataset_readers.span_relation_reader import Sentence
from spert_mt_plugin.dataset_readers.types_file import EntityRelationTypes

logger = logging.getLogger(__name__)


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
        return {"file": self.file, "line": self.line, "kind": self.kind, "annotation": self.annotation, "reason": self.reason}


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
    text = txt_path.read_text(encoding="utf-8")
    document = BratDocument(txt_path.stem, text, str(ann_path))
    if not ann_path.is_file():
        if require_annotation:
            raise DataError(f"{txt_path}: no {ann_path.name} beside it (training and evaluation need annotation)")
        document.annotated = False
        return document
    # ids a relation may point at: every text-bound annotation (discontinuous ones too) and event
    argument_ids: Set[str] = set()
    pending_relations: List[BratRelation] = []
    for number, raw in enumerate(ann_path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        where = f"{ann_path}, line {number}"
        fields = line.split("\t")
        identifier = fields[0]
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
            pending_relations.append(BratRelation(identifier, parts[0], arguments["Arg1"], arguments["Arg2"], number))
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
                raise DataError(f"{ann_path}, line {relation.line}: {role} {target} of {relation.id} is not an entity of this file")
        document.relations.append(relation)
    for relation_type, members, number in document.equivalences:
        for member in members:
            if member not in argument_ids:
                raise DataError(f"{ann_path}, line {number}: {member} of the {relation_type} equivalence is not an entity of this file")
    return document


def _check_type(label: str, known: Optional[List[str]], kind: str, where: str) -> None:
    if known is not None and label not in known:
        raise DataError(f"{where}: {kind} type {label!r} is not in the types file (known: {', '.join(known)})")


def _read_text_bound(
    document: BratDocument, fields: List[str], number: int, where: str, types: Optional[EntityRelationTypes]
) -> None:
    identifier = fields[0]
    match = re.fullmatch(r"(\S+) (\d+ \d+(?:;\d+ \d+)*)", fields[1])
    if match is None or len(fields) < 3:
        raise DataError(f"{where}: a text-bound annotation must read 'ID<TAB>Type START END<TAB>text', got {fields[1:]!r}")
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
        document.skipped.append(
            Skipped(document.ann_path, number, "discontinuous entity", "\t".join(fields), "an entity must be one contiguous span")
        )
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


def document_sentences(
    document: BratDocument, nlp, symmetric_types: Optional[Set[str]]
) -> List[Tuple[Sentence, List[Tuple[int, int]]]]:
    """
    The sentences of `document` with the character offsets of their words. Appends what cannot be
    represented to `document.skipped`. `symmetric_types`: relation types an equivalence set may
    expand into; `None` accepts every type (no types file).
    """
    text = document.text
    entities = list(document.entities.values())
    boundaries = sorted({e.start for e in entities} | {e.end for e in entities})
    nlp.max_length = max(nlp.max_length, len(text) + 1)
    parsed = nlp(text)
    words: List[Tuple[int, int]] = []
    for token in parsed:
        if token.is_space:
            continue
        start, end = token.idx, token.idx + len(token.text)
        cuts = [b for b in boundaries[bisect_right(boundaries, start) :] if b < end]
        for piece_start, piece_end in zip([start] + cuts, cuts + [end]):
            if text[piece_start:piece_end].strip():
                words.append((piece_start, piece_end))
    word_starts = [start for start, _ in words]
    # sentence index of each word, from spaCy's sentence starts
    sentence_starts = sorted(sentence.start_char for sentence in parsed.sents)
    sentence_of = [bisect_right(sentence_starts, start) - 1 for start in word_starts]
    start_word = {start: index for index, (start, _) in enumerate(words)}
    end_word = {end: index for index, (_, end) in enumerate(words)}
    # An entity across a sentence boundary joins the sentences it touches.
    merged = list(range(len(sentence_starts)))
    for entity in entities:
        first, last = sentence_of[start_word[entity.start]], sentence_of[end_word[entity.end]]
        for index in range(first + 1, last + 1):
            merged[index] = merged[first]
    groups: Dict[int, List[int]] = {}
    for word_index, sentence in enumerate(sentence_of):
        groups.setdefault(merged[sentence], []).append(word_index)
    if not document.annotated:
        return [
            (Sentence([text[s:e] for s, e in (words[i] for i in indices)], None, None, f"{document.name}#{number}"),
             [words[i] for i in indices])
            for number, indices in enumerate(groups.values())
        ]
    results = []
    entity_place: Dict[str, Tuple[int, int]] = {}  # brat id -> (sentence number, entity index)
    group_keys = list(groups)
    for number, word_indices in enumerate(groups.values()):
        first_word = word_indices[0]
        sentence_entities: List[Tuple[int, int, str]] = []
        seen: Dict[Tuple[int, int, str], int] = {}
        for entity in sorted(entities, key=lambda e: (e.start, e.end)):
            start = start_word[entity.start]
            if merged[sentence_of[start]] != group_keys[number]:
                continue
            key = (start - first_word, end_word[entity.end] - first_word + 1, entity.type)
            # Two ids for the same span and type are one entity.
            entity_place[entity.id] = (number, seen.setdefault(key, len(sentence_entities)))
            if seen[key] == len(sentence_entities):
                sentence_entities.append(key)
        sentence = Sentence(
            [text[s:e] for s, e in (words[i] for i in word_indices)],
            sentence_entities,
            [],
            f"{document.name}#{number}",
        )
        results.append((sentence, [words[i] for i in word_indices]))
    relations: List[Set[Tuple[int, int, str]]] = [set() for _ in results]

    def add(kind: str, line: int, annotation: str, head: str, tail: str, label: str) -> None:
        if head not in entity_place or tail not in entity_place:
            document.skipped.append(Skipped(document.ann_path, line, kind, annotation, "an argument is not a (contiguous) entity"))
        elif entity_place[head][0] != entity_place[tail][0]:
            document.skipped.append(Skipped(document.ann_path, line, kind, annotation, "its arguments are in different sentences"))
        elif entity_place[head][1] == entity_place[tail][1]:
            document.skipped.append(Skipped(document.ann_path, line, kind, annotation, "it relates an entity to itself"))
        else:
            relations[entity_place[head][0]].add((entity_place[head][1], entity_place[tail][1], label))

    for relation in document.relations:
        annotation = f"{relation.id}\t{relation.type} Arg1:{relation.head} Arg2:{relation.tail}"
        add("relation", relation.line, annotation, relation.head, relation.tail, relation.type)
    for label, members, line in document.equivalences:
        annotation = f"*\t{label} {' '.join(members)}"
        if symmetric_types is not None and label not in symmetric_types:
            document.skipped.append(
                Skipped(document.ann_path, line, "equivalence", annotation, f"{label!r} is not a symmetric relation type in the types file")
            )
            continue
        in_text_order = sorted(members, key=lambda m: (document.entities[m].start, document.entities[m].end) if m in document.entities else (-1, -1))
        for index, head in enumerate(in_text_order):
            for tail in in_text_order[index + 1 :]:
                add("equivalence", line, annotation, head, tail, label)
    for (sentence, _), sentence_relations in zip(results, relations):
        sentence.relations = sorted(sentence_relations)
    return results


def write_brat_document(
    folder: Path, name: str, text: str, entities: Iterable[Tuple[int, int, str, Optional[float]]],
    relations: Iterable[Tuple[int, int, str, Optional[float]]],
) -> None:
    """
    Writes `name.txt` and `name.ann`. `entities`: `(char start, char end, type, score or None)`;
    `relations`: `(head entity index, tail entity index, type, score or None)` into `entities`.
    Scores become AnnotatorNotes, which brat shows and keeps.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
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
    (folder / f"{name}.ann").write_text("".join(line + "\n" for line in lines), encoding="utf-8")

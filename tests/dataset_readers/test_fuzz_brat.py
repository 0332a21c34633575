"""
The brat reader under fuzzing (hypothesis).

Valid documents: a text of sentences (words the tokenizer keeps whole, each sentence ending in a
period; spaces, tabs, newlines and CRLF between them) and an `.ann` of contiguous entities (whose
boundaries may fall inside words and whose selection may include the spaces around them),
repeated and discontinuous entities, relations (within a sentence, across sentences, to itself,
to a discontinuous entity), equivalence sets, attributes, notes and events, in any line order. A
model of the documented behaviour (`formats.brat`, `formats.brat_sentences`) gives the expected
instances and report: an entity boundary inside a word splits the word; an entity across a sentence
boundary joins the sentences; what cannot be represented is reported, with its line.

Broken documents: one `.ann` line broken (offsets outside the text, not numbers, the text not
matching, unknown types, missing ids or fields, a repeated id, an unknown annotation), a selection
of only whitespace, two types for one span, bytes that are not UTF-8, a missing `.ann`: a
`DataError` naming the file and the line (or the sentence).

Any text: random Unicode text (all kinds of whitespace and line separators) with random entities
and relations reads without error, loses no character and keeps every entity.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from hypothesis import given, note
from hypothesis import strategies as st

from spert_mt_plugin.dataset_readers import BratReader
from spert_mt_plugin.formats.text import blank_pipeline
from tests.dataset_readers.fuzz_common import (
    CHARACTER,
    FUZZ,
    INDEXERS,
    TYPE_NAME,
    Read,
    names,
    read,
    read_or_error,
    scratch_folder,
    type_names,
)

# words spaCy's English tokenizer keeps whole; a period ends a sentence for its sentencizer
WORDS = ["Bob", "Eve", "Acme", "Oslo", "works", "big", "red", "Anna"]
INNER = [" ", " ", "  ", "\t"]
BETWEEN = [" ", "  ", " ", " ", "\n", "\r\n", " \n"]

Key = Tuple[int, int, str]  # a contiguous entity: trimmed character span and type


@dataclass
class Line:
    kind: str  # T (contiguous), D (discontinuous T), R, *, A, #, E
    id: str
    type: str = ""
    fragments: List[Tuple[int, int]] = field(default_factory=list)  # as written (untrimmed)
    arguments: List[str] = field(default_factory=list)  # R: head, tail; *: members; A, #, E: target

    def render(self, text: str) -> str:
        if self.kind in "TD":
            offsets = ";".join(f"{start} {end}" for start, end in self.fragments)
            covered = " ".join(text[start:end] for start, end in self.fragments)
            return f"{self.id}\t{self.type} {offsets}\t{covered}"
        if self.kind == "R":
            return f"{self.id}\t{self.type} Arg1:{self.arguments[0]} Arg2:{self.arguments[1]}"
        if self.kind == "*":
            return f"*\t{self.type} {' '.join(self.arguments)}"
        if self.kind == "A":
            return f"{self.id}\tNegated {self.arguments[0]}"
        if self.kind == "#":
            return f"{self.id}\tAnnotatorNotes {self.arguments[0]}\ta note\twith a tab"
        return f"{self.id}\tJoin:{self.arguments[0]}"


@dataclass
class BratDoc:
    text: str
    tokens: List[Tuple[int, int, int]]  # spaCy's tokens: character start, end, sentence number
    sentences: int
    entity_types: List[str]
    relation_types: List[str]
    symmetric: Set[str]
    lines: List[Line]

    def ann(self) -> str:
        return "".join(line.render(self.text) + "\n" for line in self.lines)

    def conf(self) -> str:
        relations = [
            f"{name}\tArg1:<ENTITY>, Arg2:<ENTITY>"
            + (", <REL-TYPE>:symmetric-transitive" if name in self.symmetric else "")
            for name in self.relation_types
        ]
        entities = "\n".join(self.entity_types)
        return f"[entities]\n{entities}\n[relations]\n" + "\n".join(relations) + "\n[events]\nJoin\tAgent:<ENTITY>\n"

    def entity_keys(self) -> Dict[str, Key]:
        """The contiguous entities by id: span without the whitespace at its edges, and type."""
        return {line.id: (*trim(self.text, *line.fragments[0]), line.type) for line in self.lines if line.kind == "T"}


def trim(text: str, start: int, end: int) -> Tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@st.composite
def brat_documents(draw) -> BratDoc:
    entity_types, relation_types = draw(type_names())
    symmetric = draw(st.sets(st.sampled_from(relation_types)))
    text, tokens = "", []
    sentences = draw(st.sampled_from([4, 3, 2, 1]))
    for sentence in range(sentences):
        if sentence:
            text += draw(st.sampled_from(BETWEEN))
        for number, word in enumerate(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))):
            text += draw(st.sampled_from(INNER)) if number else ""
            tokens.append((len(text), len(text) + len(word), sentence))
            text += word
        text += draw(st.sampled_from(["", " "]))
        tokens.append((len(text), len(text) + 1, sentence))
        text += "."
    characters = [i for i, c in enumerate(text) if not c.isspace()]

    lines: List[Line] = []
    span_type: Dict[Tuple[int, int], str] = {}
    for _ in range(draw(st.sampled_from([4, 3, 2, 1, 0, 5]))):
        # from a word to the same or a later one, or across the boundary of two sentences (as a
        # sentencizer error makes it); a boundary at a word's edge, or inside it
        if sentences > 1 and draw(st.booleans()):
            boundary = draw(st.integers(1, sentences - 1))
            first = draw(st.sampled_from([i for i, (_, _, s) in enumerate(tokens) if s == boundary - 1]))
            last = draw(st.sampled_from([i for i, (_, _, s) in enumerate(tokens) if s == boundary]))
        else:
            first = draw(st.sampled_from(range(len(tokens))))
            last = min(len(tokens) - 1, first + draw(st.sampled_from([3, 0, 5, 1, 8, 2])))
        (a, b, _), (c, d, _) = tokens[first], tokens[last]
        start = a if draw(st.sampled_from([True, True, False])) else draw(st.integers(a, b - 1))
        end = d if draw(st.sampled_from([True, True, False])) else draw(st.integers(c + 1, d))
        newline = min([i for i in (text.find("\n", start), text.find("\r", start)) if i >= 0], default=len(text))
        if end > newline:  # an .ann line cannot hold a line break: up to the last word before it
            end = max([e for _, e, _ in tokens if e <= newline], default=0)
        if end <= start:
            continue
        span = (start, end)
        # a selection may take the spaces or tabs around the entity
        if draw(st.booleans()) and start > 0 and text[start - 1] in " \t":
            start -= 1
        if draw(st.booleans()) and end < len(text) and text[end] in " \t":
            end += 1
        label = span_type.setdefault(span, draw(st.sampled_from(entity_types)))
        lines.append(Line("T", f"T{len(lines) + 1}", label, [(start, end)]))
        if draw(st.sampled_from(range(5))) == 4:  # the same entity again, under another id
            lines.append(Line("T", f"T{len(lines) + 1}", label, [(start, end)]))
    if len(characters) >= 2 and draw(st.booleans()):
        a, b, c, d = sorted(draw(st.lists(st.sampled_from(range(len(text) + 1)), min_size=4, max_size=4)))
        fragments = [(a, b), (c, d)]
        if a < b and c < d and not any(ch in text[a:b] + text[c:d] for ch in "\r\n"):
            lines.append(Line("D", f"T{len(lines) + 1}", draw(st.sampled_from(entity_types)), fragments))
    ids = [line.id for line in lines]
    keys = BratDoc(text, tokens, sentences, entity_types, relation_types, symmetric, lines).entity_keys()
    pair_type: Dict[Tuple[Key, Key], str] = {}

    def consistent(label: str, pairs: List[Tuple[str, str]]) -> bool:
        """Whether `label` may relate each pair of ids (a pair of entities takes one relation type)."""
        known = [(keys[h], keys[t]) for h, t in pairs if h in keys and t in keys]
        if any(pair_type.get(pair, label) != label for pair in known):
            return False
        pair_type.update((pair, label) for pair in known)
        return True

    if ids:
        for number in range(draw(st.sampled_from([2, 1, 0, 3, 4]))):
            head, tail = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
            label = draw(st.sampled_from(relation_types))
            if consistent(label, [(head, tail)]):
                lines.append(Line("R", f"R{number + 1}", label, arguments=[head, tail]))
        if draw(st.booleans()):
            members = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3))
            label = draw(st.sampled_from(relation_types))
            position = {i: keys[i][:2] if i in keys else (-1, -1) for i in members}
            ordered = sorted(members, key=position.get)
            pairs = [(h, t) for n, h in enumerate(ordered) for t in ordered[n + 1 :]]
            if label not in symmetric or consistent(label, pairs):
                lines.append(Line("*", "*", label, arguments=members))
        target = draw(st.sampled_from(ids))
        for kind, identifier in (("A", "A1"), ("#", "#1"), ("E", "E1")):
            if draw(st.booleans()):
                lines.append(Line(kind, identifier, arguments=[target]))
    lines = draw(st.permutations(lines))
    return BratDoc(text, tokens, sentences, entity_types, relation_types, symmetric, lines)


def expected_read(doc: BratDoc, annotated: bool = True) -> Tuple[List[Read], Counter]:
    """
    The documented behaviour: the instances of `doc` and its report, a count of `(line, kind)`.
    Words are the tokenizer's, cut where an entity starts or ends inside one; sentences end at
    periods, but an entity across a boundary joins the sentences; each sentence takes the
    entities that start in it (one entity per span and type) in text order; what cannot be
    represented is reported.
    """
    text = doc.text
    keys = doc.entity_keys() if annotated else {}
    boundaries = sorted({b for start, end, _ in keys.values() for b in (start, end)})
    words: List[Tuple[int, int, int]] = []
    for start, end, sentence in doc.tokens:
        cuts = [b for b in boundaries if start < b < end]
        words += [(a, b, sentence) for a, b in zip([start] + cuts, cuts + [end])]
    sentence_at_start = {a: s for a, _, s in words}
    sentence_at_end = {b: s for _, b, s in words}
    continues = [False] * doc.sentences  # whether sentence k goes on sentence k - 1
    for start, end, _ in keys.values():
        for k in range(sentence_at_start[start] + 1, sentence_at_end[end] + 1):
            continues[k] = True
    group_of, count = [], 0
    for k in range(doc.sentences):
        count += not continues[k]
        group_of.append(count - 1)
    groups: List[List[Tuple[int, int]]] = [[] for _ in range(count)]
    for a, b, sentence in words:
        groups[group_of[sentence]].append((a, b))
    place_start = {a: (g, i) for g, group in enumerate(groups) for i, (a, _) in enumerate(group)}
    place_end = {b: (g, i) for g, group in enumerate(groups) for i, (_, b) in enumerate(group)}
    entities: List[List[Key]] = [[] for _ in groups]
    place: Dict[Key, Tuple[int, int]] = {}
    for start, end, label in sorted(set(keys.values()), key=lambda key: key[:2]):
        g, first = place_start[start]
        place[(start, end, label)] = (g, len(entities[g]))
        entities[g].append((first, place_end[end][1] + 1, label))
    relations: List[Set[Tuple[int, int, str]]] = [set() for _ in groups]
    report: Counter = Counter()
    numbers = {id(line): n for n, line in enumerate(doc.lines, start=1)}

    def relate(kind: str, line: Line, head: str, tail: str) -> None:
        if head not in keys or tail not in keys:
            report[(numbers[id(line)], kind)] += 1  # not a (contiguous) entity
            return
        (g, h), (g2, t) = place[keys[head]], place[keys[tail]]
        if g != g2 or h == t:
            report[(numbers[id(line)], kind)] += 1  # across sentences, or to itself
        else:
            relations[g].add((h, t, line.type))

    for line in doc.lines if annotated else []:
        if line.kind == "R":
            relate("relation", line, *line.arguments)
        elif line.kind == "D":
            report[(numbers[id(line)], "discontinuous entity")] += 1
        elif line.kind in "A#E":
            report[(numbers[id(line)], {"A": "attribute", "#": "note", "E": "event"}[line.kind])] += 1
    for line in doc.lines if annotated else []:
        if line.kind == "*":
            if line.type not in doc.symmetric:
                report[(numbers[id(line)], "equivalence")] += 1
                continue
            ordered = sorted(line.arguments, key=lambda i: keys[i][:2] if i in keys else (-1, -1))
            for n, head in enumerate(ordered):
                for tail in ordered[n + 1 :]:
                    relate("equivalence", line, head, tail)
    instances = [
        (
            [text[a:b] for a, b in group],
            entities[g] if annotated else None,
            sorted(relations[g]) if annotated else None,
            f"doc#{g}",
        )
        for g, group in enumerate(groups)
    ]
    return instances, report


def write(folder: Path, doc: BratDoc, ann: Optional[bytes] = None, txt: Optional[bytes] = None) -> Path:
    (folder / "annotation.conf").write_text(doc.conf(), encoding="utf-8")
    data = folder / "brat"
    data.mkdir()
    (data / "doc.txt").write_bytes(doc.text.encode("utf-8") if txt is None else txt)
    if ann != b"no .ann":
        (data / "doc.ann").write_bytes(doc.ann().encode("utf-8") if ann is None else ann)
    return data


NLP = blank_pipeline("en")


def reader(folder: Path, **kwargs) -> BratReader:
    brat = BratReader(token_indexers=INDEXERS, types_file=str(folder / "annotation.conf"), **kwargs)
    brat.__dict__["_nlp"] = NLP  # its cached spaCy pipeline: one for all examples, not one each
    return brat


@FUZZ
@given(brat_documents(), st.booleans())
def test_valid_documents_give_their_annotation_and_report_the_rest(doc, crlf):
    note(f"text {doc.text!r}\n{doc.ann()}")
    expected, report = expected_read(doc)
    with scratch_folder() as folder:
        folder = Path(folder)
        # an .ann written on Windows reads the same
        data = write(folder, doc, ann=doc.ann().replace("\n", "\r\n").encode("utf-8") if crlf else None)
        brat = reader(folder)
        assert read(brat, data) == expected
        assert Counter((item.line, item.kind) for item in brat.last_report) == report


@FUZZ
@given(brat_documents())
def test_text_without_ann_is_unannotated(doc):
    expected, _ = expected_read(doc, annotated=False)
    with scratch_folder() as folder:
        folder = Path(folder)
        data = write(folder, doc, ann=b"no .ann")
        instances, error = read_or_error(reader(folder), data)
        assert error is not None and names(error, f"{data / 'doc.txt'}: no doc.ann beside it")
        assert read(reader(folder, require_annotation=False), data) == expected


@st.composite
def broken_documents(draw):
    """A valid document with one thing broken: `(doc, .ann bytes, .txt bytes, where the error must point)`."""
    doc = draw(brat_documents())
    text, lines = doc.text, [line.render(doc.text) for line in doc.lines]
    entities = [n for n, line in enumerate(doc.lines) if line.kind == "T"]
    relations = [n for n, line in enumerate(doc.lines) if line.kind == "R"]
    equivalences = [n for n, line in enumerate(doc.lines) if line.kind == "*"]
    kinds = ["unknown annotation", "no tab", "only whitespace", "not UTF-8 .ann", "not UTF-8 .txt"]
    kinds += ["offsets outside", "offsets not numbers", "text differs", "no text", "unknown entity type"] * bool(
        entities
    )
    kinds += ["duplicate id", "two types for a span"] * bool(entities)
    kinds += ["unknown relation type", "missing argument", "malformed relation"] * bool(relations)
    kinds += ["missing member", "one member"] * bool(equivalences)
    kind = draw(st.sampled_from(kinds))
    ann_path = "{data}/doc.ann"
    where = "{ann}, line {line}"
    if kind in ("offsets outside", "offsets not numbers", "text differs", "no text", "unknown entity type"):
        n = draw(st.sampled_from(entities))
        line = doc.lines[n]
        (start, end), covered = line.fragments[0], text[line.fragments[0][0] : line.fragments[0][1]]
        if kind == "offsets outside":
            start, end = draw(
                st.sampled_from(
                    [(start, len(text) + 1), (start, 10**9), (end, start), (start, start), (len(text), end)]
                )
            )
            lines[n] = f"{line.id}\t{line.type} {start} {end}\t{covered}"
        elif kind == "offsets not numbers":
            offsets = draw(
                st.sampled_from([f"-1 {end}", f"{start}", f"{start} {end} 3", f"{start}.0 {end}", "a b", ""])
            )
            lines[n] = f"{line.id}\t{line.type} {offsets}\t{covered}"
        elif kind == "text differs":
            lines[n] = lines[n] + draw(st.sampled_from(["x", " ", "\u00e9"]))
        elif kind == "no text":
            lines[n] = lines[n].rsplit("\t", 1)[0]
        else:
            lines[n] = f"{line.id}\tQ{line.type} {start} {end}\t{covered}"
        problem = (n + 1,)
    elif kind == "duplicate id":
        n = draw(st.sampled_from(entities))
        other = draw(st.sampled_from(range(len(text))))
        lines.append(f"{doc.lines[n].id}\t{doc.entity_types[0]} {other} {other + 1}\t{text[other]}")
        problem = (len(lines),)
    elif kind == "two types for a span":
        if len(doc.entity_types) < 2:
            return doc, "\n".join(lines + ["X1\tx"]).encode(), None, where, (len(lines) + 1,)
        n = draw(st.sampled_from(entities))
        start, end, label = doc.entity_keys()[doc.lines[n].id]
        other = draw(st.sampled_from([name for name in doc.entity_types if name != label]))
        lines.append(f"T99\t{other} {start} {end}\t{text[start:end]}")
        return doc, "\n".join(lines).encode(), None, "{ann}, sentence", ()
    elif kind in ("unknown relation type", "missing argument", "malformed relation"):
        n = draw(st.sampled_from(relations))
        line = doc.lines[n]
        head, tail = line.arguments
        lines[n] = {
            "unknown relation type": f"{line.id}\tQ{line.type} Arg1:{head} Arg2:{tail}",
            "missing argument": f"{line.id}\t{line.type} Arg1:{head} Arg2:T99",
            "malformed relation": draw(
                st.sampled_from(
                    [
                        f"{line.id}\t{line.type} {head} {tail}",
                        f"{line.id}\t{line.type} Arg1:{head}",
                        f"{line.id}\t{line.type} Arg1:{head} Arg3:{tail}",
                        f"{line.id}\t{line.type} Arg1:{head} Arg2:{tail} Arg3:{tail}",
                        f"{line.id}\t",
                    ]
                )
            ),
        }[kind]
        problem = (n + 1,)
    elif kind in ("missing member", "one member"):
        n = draw(st.sampled_from(equivalences))
        line = doc.lines[n]
        members = line.arguments + ["T99"] if kind == "missing member" else line.arguments[:1]
        lines[n] = f"*\t{line.type} {' '.join(members)}"
        problem = (n + 1,)
    elif kind == "unknown annotation":
        lines.insert(
            n := draw(st.sampled_from(range(len(lines) + 1))), draw(st.sampled_from(["X1\tx", "t1\tx", "\tx"]))
        )
        problem = (n + 1,)
    elif kind == "no tab":
        if not lines:
            lines, n = ["T1 Bob 0 1 B"], 0
        else:
            n = draw(st.sampled_from(range(len(lines))))
            if doc.lines[n].kind in "A#E":  # skipped whatever they hold
                lines[n] = "T1 " + lines[n]
            lines[n] = lines[n].replace("\t", " ")
        problem = (n + 1,)
    elif kind == "only whitespace":
        spaces = [i for i, c in enumerate(text) if c in " \t"]
        if not spaces:
            return doc, "\n".join(lines + ["X1\tx"]).encode(), None, where, (len(lines) + 1,)
        i = draw(st.sampled_from(spaces))
        lines.append(f"T99\t{doc.entity_types[0]} {i} {i + 1}\t{text[i]}")
        problem = (len(lines),)
    elif kind == "not UTF-8 .ann":
        raw = "".join(line + "\n" for line in lines).encode("utf-8")
        position = draw(st.sampled_from(range(len(raw) + 1)))
        byte = draw(st.sampled_from([b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80"]))
        return doc, raw[:position] + byte + raw[position:], None, ann_path, ()
    else:
        raw = text.encode("utf-8")
        position = draw(st.sampled_from(range(len(raw) + 1)))
        return doc, None, raw[:position] + b"\xff" + raw[position:], "{data}/doc.txt", ()
    return doc, "".join(line + "\n" for line in lines).encode("utf-8"), None, where, problem


@FUZZ
@given(broken_documents())
def test_broken_documents_are_a_data_error_naming_file_and_line(broken):
    doc, ann, txt, where, problem = broken
    note(f"text {doc.text!r}\n{(ann or b'').decode('utf-8', 'replace')}")
    with scratch_folder() as folder:
        folder = Path(folder)
        data = write(folder, doc, ann=ann, txt=txt)
        instances, error = read_or_error(reader(folder), data)
        location = where.format(data=data, ann=data / "doc.ann", line=problem[0] if problem else None)
        assert error is not None, f"accepted: {instances}"
        assert names(error, location), f"the error does not name {location}: {error}"


# Any text: every character, whitespace included (line separators, no-break spaces, tabs, CRLF).
ANY_TEXT = st.text(
    st.one_of(CHARACTER, st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "\u2028", "\x85", "\x0c", ".", "-"])),
    min_size=1,
    max_size=40,
)


@st.composite
def any_documents(draw):
    """`(text, entity types, relation types, .ann lines, {T id: trimmed span and type}, relations)`."""
    text = draw(ANY_TEXT)
    entity_types = draw(st.lists(TYPE_NAME, min_size=1, max_size=3, unique=True))
    relation_types = draw(st.lists(TYPE_NAME, min_size=1, max_size=2, unique=True))
    lines, keys, span_type = [], {}, {}
    for number in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        span = trim(text, start, end)
        if span[0] == span[1] or "\n" in text[start:end] or "\r" in text[start:end]:
            continue  # only whitespace (an error), or a line break (an .ann line cannot hold it)
        label = span_type.setdefault(span, draw(st.sampled_from(entity_types)))
        lines.append(f"T{number}\t{label} {start} {end}\t{text[start:end]}")
        keys[f"T{number}"] = (*span, label)
    relations, pair_type = [], {}
    for number in range(draw(st.integers(0, 4)) if keys else 0):
        head, tail = draw(st.sampled_from(sorted(keys))), draw(st.sampled_from(sorted(keys)))
        label = pair_type.setdefault((keys[head], keys[tail]), draw(st.sampled_from(relation_types)))
        lines.append(f"R{number}\t{label} Arg1:{head} Arg2:{tail}")
        relations.append((len(lines), head, tail, label))
    return text, entity_types, relation_types, lines, keys, relations


def squeeze(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


@FUZZ
@given(any_documents())
def test_any_text_keeps_every_character_and_entity(document):
    text, entity_types, relation_types, lines, keys, relations = document
    note(f"text {text!r}\n" + "\n".join(lines))
    with scratch_folder() as folder:
        folder = Path(folder)
        conf = f"[entities]\n{chr(10).join(entity_types)}\n[relations]\n{chr(10).join(relation_types)}\n"
        (folder / "annotation.conf").write_text(conf, encoding="utf-8")
        data = folder / "brat"
        data.mkdir()
        (data / "doc.txt").write_bytes(text.encode("utf-8"))
        (data / "doc.ann").write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
        brat = reader(folder)
        instances = read(brat, data)
    # no character lost, none added, and no word of whitespace
    assert "".join(word for tokens, *_ in instances for word in tokens) == squeeze(text)
    assert all(word and squeeze(word) == word for tokens, *_ in instances for word in tokens)
    # every entity, once per span and type
    read_entities = Counter(
        ("".join(tokens[start:end]), label) for tokens, entities, *_ in instances for start, end, label in entities
    )
    assert read_entities == Counter((squeeze(text[start:end]), label) for start, end, label in set(keys.values()))
    # every relation: in its sentence, or reported with its line (one relation per pair of entities and type)
    reported = {item.line for item in brat.last_report if item.kind == "relation"}
    kept = {(keys[head], keys[tail], label) for line, head, tail, label in relations if line not in reported}
    assert all(keys[head] != keys[tail] for line, head, tail, _ in relations if line not in reported)
    assert sum(len(relations) for _, _, relations, _ in instances) == len(kept)

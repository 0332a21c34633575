"""
A text annotated by character offsets as sentences of words, with its annotation mapped onto them:
`text_sentences`, shared by every format that annotates text by character offsets (brat here,
doccano in `doccano`, Label Studio in `label_studio`); `document_sentences` for a brat document;
`brat_to_spert`, a brat folder converted into SpERT documents.

Tokenisation: spaCy's rule-based tokenizer and sentencizer. An entity boundary inside a word splits
that word (`"anti-EGFR"` with an entity on `"EGFR"` gives the words `"anti-"` and `"EGFR"`): the
annotation wins over the tokenizer. An entity across a sentence boundary (a sentencizer error such
as "Dr. Smith") joins the two sentences. What cannot be represented is listed in the document's
`skipped` (see `brat`).
"""

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc

from spert_mt_plugin.formats.brat import BratDocument, BratEntity, Skipped, find_documents, read_brat_document
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.spert_documents import sentence_to_spert, validated_sentences
from spert_mt_plugin.formats.text import blank_pipeline, parse
from spert_mt_plugin.formats.types_file import EntityRelationTypes

# character offsets (start, exclusive end) of a word
Word = Tuple[int, int]


def read_folder(
    folder: str, nlp: Language, types: Optional[EntityRelationTypes] = None, require_annotation: bool = True
) -> Iterator[Tuple[BratDocument, List[Tuple[str, Sentence]]]]:
    """
    Each brat document of `folder` (searched recursively) with its `(location, Sentence)` pairs,
    not yet validated; `document.skipped` lists what could not be represented. An equivalence
    set expands only when `types` marks its type symmetric (any type without `types`).
    """
    symmetric = types.symmetric_relations if types is not None else None
    for txt_path in find_documents(folder):
        document = read_brat_document(txt_path, types, require_annotation)
        sentences = document_sentences(document, nlp, symmetric)
        yield (
            document,
            [(f"{document.ann_path}, sentence {number}", sentence) for number, (sentence, _) in enumerate(sentences)],
        )


@dataclass
class CharRelation:
    """A relation between two entities of a text, named by their ids, as a format reads it."""

    head: str
    tail: str
    type: str
    # where the report points: the line of the file (brat, doccano) or the task's index (Label Studio)
    line: int
    kind: str  # the report's kind: "relation", "equivalence"
    annotation: str  # the annotation as the file writes it, for the report


def trimmed_span(text: str, start: int, end: int) -> Optional[Tuple[int, int]]:
    """
    `[start, end)` of `text` without the whitespace at its edges (the spaces of a selection are not
    part of the entity); `None` when it covers only whitespace. Needs `0 <= start < end <= len(text)`.
    """
    while text[start].isspace() and start < end - 1:
        start += 1
    while text[end - 1].isspace() and end - 1 > start:
        end -= 1
    return None if text[start:end].isspace() else (start, end)


def text_sentences(
    text: str,
    entities: Optional[Sequence[BratEntity]],
    relations: Sequence[Union[CharRelation, Skipped]],
    nlp: Language,
    name: str,
    source: str,
) -> Tuple[List[Tuple[Sentence, List[Word]]], List[Skipped]]:
    """
    The sentences of `text` (ids `name#N`) with the character offsets of their words, and the report
    of the relations that cannot be represented (`source` is the report's file).

    # Parameters

    text : `str`
        The whole text; offsets count its characters.
    entities : `Sequence[BratEntity]`, optional
        Contiguous entities by character offsets (`id`, `type`, `start`, exclusive `end`), trimmed
        (`trimmed_span`) and within the text. `None`: the text is unannotated (prediction input),
        its sentences have neither entities nor relations.
    relations : `Sequence[Union[CharRelation, Skipped]]`
        In the order of the report: a `CharRelation` is kept when both its arguments are entities of
        one sentence and differ, else reported; a `Skipped` (what the format already knows it
        cannot represent) goes into the report in its place.
    """
    entities = list(entities) if entities is not None else None
    known = entities or []
    parsed = parse(nlp, text)
    words = _words(parsed, text, known)
    start_word = {start: index for index, (start, _) in enumerate(words)}
    end_word = {end: index for index, (_, end) in enumerate(words)}
    groups = _sentence_groups(parsed, words, known, start_word, end_word)
    sentences = [
        Sentence([text[words[i][0] : words[i][1]] for i in indices], None, None, f"{name}#{number}")
        for number, indices in enumerate(groups)
    ]
    skipped: List[Skipped] = []
    if entities is not None:
        entity_place = _place_entities(entities, sentences, groups, start_word, end_word)
        placed = _relations(relations, entity_place, len(sentences), source, skipped)
        for sentence, sentence_relations in zip(sentences, placed):
            sentence.relations = sorted(sentence_relations)
    return [(sentence, [words[i] for i in indices]) for sentence, indices in zip(sentences, groups)], skipped


def document_sentences(
    document: BratDocument, nlp: Language, symmetric_types: Optional[Set[str]]
) -> List[Tuple[Sentence, List[Word]]]:
    """
    The sentences of `document` with the character offsets of their words. Appends what cannot be
    represented to `document.skipped`. `symmetric_types`: relation types an equivalence set may
    expand into; `None` accepts every type (no types file).
    """
    relations: List[Union[CharRelation, Skipped]] = [
        CharRelation(
            relation.head,
            relation.tail,
            relation.type,
            relation.line,
            "relation",
            f"{relation.id}\t{relation.type} Arg1:{relation.head} Arg2:{relation.tail}",
        )
        for relation in document.relations
    ]
    for label, members, line in document.equivalences:
        annotation = f"*\t{label} {' '.join(members)}"
        if symmetric_types is not None and label not in symmetric_types:
            reason = f"{label!r} is not a symmetric relation type in the types file"
            relations.append(Skipped(document.ann_path, line, "equivalence", annotation, reason))
            continue
        in_text_order = sorted(members, key=lambda member: _position(document, member))
        for index, head in enumerate(in_text_order):
            for tail in in_text_order[index + 1 :]:
                relations.append(CharRelation(head, tail, label, line, "equivalence", annotation))
    entities = list(document.entities.values()) if document.annotated else None
    sentences, skipped = text_sentences(document.text, entities, relations, nlp, document.name, document.ann_path)
    document.skipped.extend(skipped)
    return sentences


def _words(parsed: Doc, text: str, entities: List[BratEntity]) -> List[Word]:
    """spaCy's tokens but whitespace, cut where an entity starts or ends inside one."""
    boundaries = sorted({e.start for e in entities} | {e.end for e in entities})
    words: List[Word] = []
    for token in parsed:
        if token.is_space:
            continue
        start, end = token.idx, token.idx + len(token.text)
        cuts = [b for b in boundaries[bisect_right(boundaries, start) :] if b < end]
        for piece_start, piece_end in zip([start] + cuts, cuts + [end]):
            if text[piece_start:piece_end].strip():
                words.append((piece_start, piece_end))
    return words


def _sentence_groups(
    parsed: Doc, words: List[Word], entities: List[BratEntity], start_word: Dict[int, int], end_word: Dict[int, int]
) -> List[List[int]]:
    """The word indices of each sentence, after joining the sentences an entity crosses."""
    # sentence index of each word, from spaCy's sentence starts
    sentence_starts = sorted(sentence.start_char for sentence in parsed.sents)
    sentence_of = [bisect_right(sentence_starts, start) - 1 for start, _ in words]
    # the sentences that continue the one before (an entity crosses their boundary), in any order
    # of the entities: merged[k] is the first sentence of k's group
    joined = set()
    for entity in entities:
        first, last = sentence_of[start_word[entity.start]], sentence_of[end_word[entity.end]]
        joined.update(range(first + 1, last + 1))
    merged: List[int] = []
    for index in range(len(sentence_starts)):
        merged.append(merged[index - 1] if index in joined else index)
    groups: Dict[int, List[int]] = {}
    for word_index, sentence in enumerate(sentence_of):
        groups.setdefault(merged[sentence], []).append(word_index)
    return list(groups.values())


def _place_entities(
    entities: List[BratEntity],
    sentences: List[Sentence],
    groups: List[List[int]],
    start_word: Dict[int, int],
    end_word: Dict[int, int],
) -> Dict[str, Tuple[int, int]]:
    """
    Gives each sentence the entities that start in it, in text order. Returns where each brat id
    went: (sentence number, entity index).
    """
    group_of = {word: number for number, indices in enumerate(groups) for word in indices}
    for sentence in sentences:
        sentence.entities = []
    seen: List[Dict[Tuple[int, int, str], int]] = [{} for _ in sentences]
    entity_place: Dict[str, Tuple[int, int]] = {}
    for entity in sorted(entities, key=lambda e: (e.start, e.end)):
        start = start_word[entity.start]
        number = group_of[start]
        first_word = groups[number][0]
        key = (start - first_word, end_word[entity.end] - first_word + 1, entity.type)
        sentence_entities = sentences[number].entities
        # Two ids for the same span and type are one entity.
        entity_place[entity.id] = (number, seen[number].setdefault(key, len(sentence_entities)))
        if seen[number][key] == len(sentence_entities):
            sentence_entities.append(key)
    return entity_place


def _relations(
    relations: Sequence[Union[CharRelation, Skipped]],
    entity_place: Dict[str, Tuple[int, int]],
    count: int,
    source: str,
    skipped: List[Skipped],
) -> List[Set[Tuple[int, int, str]]]:
    """The relations of each of the `count` sentences; what cannot be represented goes to `skipped`."""
    placed: List[Set[Tuple[int, int, str]]] = [set() for _ in range(count)]
    for relation in relations:
        if isinstance(relation, Skipped):
            skipped.append(relation)
            continue
        head, tail = relation.head, relation.tail
        if head not in entity_place or tail not in entity_place:
            reason = "an argument is not a (contiguous) entity"
        elif entity_place[head][0] != entity_place[tail][0]:
            reason = "its arguments are in different sentences"
        elif entity_place[head][1] == entity_place[tail][1]:
            reason = "it relates an entity to itself"
        else:
            placed[entity_place[head][0]].add((entity_place[head][1], entity_place[tail][1], relation.type))
            continue
        skipped.append(Skipped(source, relation.line, relation.kind, relation.annotation, reason))
    return placed


def _position(document: BratDocument, member: str) -> Tuple[int, int]:
    # A member that is no (contiguous) entity sorts first; `add` reports its relations.
    entity = document.entities.get(member)
    return (entity.start, entity.end) if entity is not None else (-1, -1)


def brat_to_spert(
    folder: str, types_file: Optional[str] = None, language: str = "en"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a brat folder, its types (from `types_file`, a SpERT types file or an
    `annotation.conf`, or else the labels seen, equivalence types symmetric), and the report of
    what could not be represented. A `.txt` without `.ann` gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    documents, skipped = [], []
    entity_types: Counter = Counter()
    relation_types: Counter = Counter()
    equivalence_types = set()
    for document, located in read_folder(folder, blank_pipeline(language), types, require_annotation=False):
        sentences = validated_sentences(located, types)
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

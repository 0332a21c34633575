"""
The DyGIE/SciERC format: one JSON document per line,
`{"doc_key", "sentences": [[word, ...], ...], "ner": [[[start, end, type], ...], ...],
"relations": [[[head_start, head_end, tail_start, tail_end, type], ...], ...]}`, where all
indices are document-level and ends are inclusive. Read into sentences, and converted to and from
SpERT JSON (`dygie_to_spert`, `spert_to_dygie`).
"""

from typing import Any, Dict, Iterator, List, Optional, Tuple

from spert_mt_plugin.formats import spert_json
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, is_integer, validate_sentence
from spert_mt_plugin.formats.spert_documents import sentence_to_spert, validated_sentences
from spert_mt_plugin.formats.spert_json import SENTENCE_ID, is_annotated, iter_json_documents, require
from spert_mt_plugin.formats.types_file import EntityRelationTypes

# Penn Treebank escapes of the DyGIE/SciERC preprocessing. Curly braces stay escaped (-LCB-),
# as in the SpERT release of SciERC, so both formats give the same words.
PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]"}


def read_sentences(file_path: str) -> Iterator[Tuple[str, Sentence]]:
    """
    `(location, Sentence)` for each sentence of a DyGIE file, not yet validated; `doc_id` is
    `doc_key#N`. `-LRB-`-style bracket tokens are turned back into brackets. A document without
    both `ner` and `relations` gives unannotated sentences; one of the two alone is an error.
    """
    for location, document in iter_json_documents(file_path):
        sentences = require(document, "sentences", list, location)
        doc_key = document.get("doc_key")
        if doc_key is not None:
            location = f"{location} (doc_key {doc_key})"
        annotated = is_annotated(document, ("ner", "relations"), location)
        ner = document["ner"] if annotated else [[] for _ in sentences]
        relations = document["relations"] if annotated else [[] for _ in sentences]
        for key, value in (("ner", ner), ("relations", relations)):
            if not isinstance(value, list) or len(value) != len(sentences):
                raise DataError(f"{location}: {key!r} must be a list with one entry per sentence")
        offset = 0
        for index, words in enumerate(sentences):
            where = f"{location}, sentence {index}"
            if not isinstance(words, list):
                raise DataError(f"{where}: a sentence must be a list of tokens")
            for key, value in (("ner", ner[index]), ("relations", relations[index])):
                if not isinstance(value, list):
                    raise DataError(f"{where}: the {key!r} entry of a sentence must be a list")
            tokens = [PTB_BRACKETS.get(word, word) if isinstance(word, str) else word for word in words]
            sentence = _sentence(tokens, ner[index], relations[index], offset, where)
            if not annotated:
                sentence.entities = sentence.relations = None
            sentence.doc_id = f"{doc_key}#{index}" if doc_key is not None else None
            yield where, sentence
            offset += len(words)


def match_type_case(sentence: Sentence, types: Optional[EntityRelationTypes]) -> Sentence:
    """
    `sentence` with the types file's spelling of each label that differs from a type name only
    in case: DyGIE files spell relation labels in capitals (USED-FOR for Used-for). A label that
    is a type name, or that matches several in case, stays as it is.
    """
    if types is not None and sentence.annotated:
        entity_types, relation_types = types.entity_types, types.relation_types
        sentence.entities = [(s, e, _spelling(t, entity_types)) for s, e, t in sentence.entities]
        sentence.relations = [(h, t, _spelling(r, relation_types)) for h, t, r in sentence.relations]
    return sentence


def _spelling(label: str, names: List[str]) -> str:
    """`label`, or the one name of `names` that differs from it only in case."""
    if label in names:
        return label
    matches = [name for name in names if name.lower() == label.lower()]
    return matches[0] if len(matches) == 1 else label


def _sentence(tokens: List[str], ner: list, relations: list, offset: int, where: str) -> Sentence:
    entities = []
    entity_index: Dict[Tuple[int, int], int] = {}
    for number, item in enumerate(ner):
        if not (isinstance(item, list) and len(item) == 3):
            raise DataError(f"{where}: ner entry {number} must be [start, end, type]")
        start, end, label = item
        if not (is_integer(start) and is_integer(end)):
            raise DataError(f"{where}: ner entry {number} has non-integer indices")
        if not isinstance(label, str):
            raise DataError(f"{where}: ner entry {number} has a type that is not a string: {label!r}")
        entity_index.setdefault((start, end), len(entities))
        # document-level inclusive -> sentence-level exclusive
        entities.append((start - offset, end - offset + 1, label))
    converted = []
    for number, item in enumerate(relations):
        if not (isinstance(item, list) and len(item) == 5):
            raise DataError(f"{where}: relation {number} must be [head_start, head_end, tail_start, tail_end, type]")
        if not all(is_integer(index) for index in item[:4]):
            raise DataError(f"{where}: relation {number} has non-integer indices")
        if not isinstance(item[4], str):
            raise DataError(f"{where}: relation {number} has a type that is not a string: {item[4]!r}")
        head, tail = (item[0], item[1]), (item[2], item[3])
        for role, span in (("head", head), ("tail", tail)):
            if span not in entity_index:
                raise DataError(
                    f"{where}: relation {number} has {role} span {list(span)}, which is not an "
                    "entity of this sentence's 'ner' list"
                )
        converted.append((entity_index[head], entity_index[tail], item[4]))
    return Sentence(tokens, entities, converted)


def dygie_to_spert(path: str) -> List[Dict[str, Any]]:
    """SpERT documents, one per sentence, `orig_id` `doc_key#N`; validated as the readers do."""
    return [sentence_to_spert(s) for s in validated_sentences(read_sentences(path), None)]


def spert_to_dygie(path: str, ptb_brackets: bool = True) -> List[Dict[str, Any]]:
    """
    DyGIE documents from SpERT ones: consecutive sentences `name#0`, `name#1`, ... join into the
    document `name`; others become one-sentence documents. `ptb_brackets` writes brackets as the
    DyGIE/SciERC files do (`-LRB-`). A document of unannotated sentences (no `entities` and
    `relations`) is written without `ner` and `relations`, which the DyGIE reader reads as
    unannotated; one that mixes annotated and unannotated sentences is a `DataError`.
    """
    escape = {v: k for k, v in PTB_BRACKETS.items()} if ptb_brackets else {}
    documents: List[Dict[str, Any]] = []
    # per document: the location of its first annotated and of its first unannotated sentence
    first_of_kind: List[Dict[bool, str]] = []
    current_key = None
    for index, (location, sentence) in enumerate(spert_json.read_sentences(path)):
        validate_sentence(sentence, location, require_annotation=False)
        match = SENTENCE_ID.match(sentence.doc_id or "")
        key = match.group(1) if match else (sentence.doc_id or f"doc{index}")
        if not (match and key == current_key and documents):
            documents.append({"doc_key": key, "sentences": [], "ner": [], "relations": []})
            first_of_kind.append({})
            current_key = key if match else None
        first_of_kind[-1].setdefault(sentence.annotated, location)
        target = documents[-1]
        offset = sum(len(words) for words in target["sentences"])
        target["sentences"].append([escape.get(t, t) for t in sentence.tokens])
        entities = sentence.entities or []
        # document-level inclusive [start, end] of each entity
        spans = [[offset + s, offset + e - 1] for s, e, _ in entities]
        target["ner"].append([span + [t] for span, (_, _, t) in zip(spans, entities)])
        target["relations"].append([spans[h] + spans[t] + [r] for h, t, r in sentence.relations or []])
    for document, kinds in zip(documents, first_of_kind):
        if len(kinds) == 2:
            # DyGIE marks a whole document annotated or not (its reader looks for `ner` and
            # `relations` on the document); written as annotated, the unannotated sentences
            # would train as sentences without entities.
            raise DataError(
                f"{path}: DyGIE document {document['doc_key']!r} mixes annotated and unannotated "
                f"sentences ({kinds[True]} has 'entities' and 'relations', {kinds[False]} has "
                "neither); DyGIE marks a whole document annotated or not, so annotate all its "
                "sentences or none"
            )
        if True not in kinds:
            del document["ner"], document["relations"]
    return documents

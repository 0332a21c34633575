from typing import Dict, Iterable, List, Tuple

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.errors import DataError
from spert_mt_plugin.dataset_readers.span_relation_reader import Sentence, SpanRelationReader
from spert_mt_plugin.dataset_readers.spert_json import _is_annotated, _iter_json_documents, _require

# Penn Treebank escapes of the DyGIE/SciERC preprocessing. Curly braces stay escaped (-LCB-),
# as in the SpERT release of SciERC, so both formats give the same words.
PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]"}


@DatasetReader.register("dygie_jsonl")
class DygieJsonlReader(SpanRelationReader):
    """
    Reads the DyGIE/SciERC format: one JSON document per line,
    `{"doc_key", "sentences": [[word, ...], ...], "ner": [[[start, end, type], ...], ...],
    "relations": [[[head_start, head_end, tail_start, tail_end, type], ...], ...]}`, where all
    indices are document-level and ends are inclusive. Each sentence becomes one instance;
    `-LRB-`-style bracket tokens are turned back into brackets. With a types file, labels that
    differ from a type name only in case (DyGIE's `USED-FOR`) take the types file's spelling.
    A document without both `ner` and `relations` is unannotated text (see `require_annotation`).

    Registered as a `DatasetReader` with name "dygie_jsonl". Parameters: see `SpanRelationReader`.
    """

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        for location, sentence in self._read_raw_sentences(file_path):
            if self.types is not None and sentence.annotated:
                # DyGIE files spell relation labels in capitals (USED-FOR for Used-for): take the
                # types file's spelling of a label that differs only in case.
                entity_names = {t.lower(): t for t in self.types.entity_types}
                relation_names = {t.lower(): t for t in self.types.relation_types}
                sentence.entities = [(s, e, entity_names.get(t.lower(), t)) for s, e, t in sentence.entities]
                sentence.relations = [(h, t, relation_names.get(r.lower(), r)) for h, t, r in sentence.relations]
            yield location, sentence

    def _read_raw_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        for location, document in _iter_json_documents(file_path):
            sentences = _require(document, "sentences", list, location)
            doc_key = document.get("doc_key")
            if doc_key is not None:
                location = f"{location} (doc_key {doc_key})"
            annotated = _is_annotated(document, ("ner", "relations"), location)
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
                tokens = [PTB_BRACKETS.get(word, word) if isinstance(word, str) else word for word in words]
                sentence = self._convert_sentence(tokens, ner[index], relations[index], offset, where)
                if not annotated:
                    sentence.entities = sentence.relations = None
                sentence.doc_id = f"{doc_key}#{index}" if doc_key is not None else None
                yield where, sentence
                offset += len(words)

    @staticmethod
    def _convert_sentence(
        tokens: List[str], ner: list, relations: list, offset: int, where: str
    ) -> Sentence:
        entities = []
        entity_index: Dict[Tuple[int, int], int] = {}
        for number, item in enumerate(ner):
            if not (isinstance(item, list) and len(item) == 3):
                raise DataError(f"{where}: ner entry {number} must be [start, end, type]")
            start, end, label = item
            if not (isinstance(start, int) and isinstance(end, int)):
                raise DataError(f"{where}: ner entry {number} has non-integer indices")
            entity_index.setdefault((start, end), len(entities))
            # document-level inclusive -> sentence-level exclusive
            entities.append((start - offset, end - offset + 1, label))
        converted = []
        for number, item in enumerate(relations):
            if not (isinstance(item, list) and len(item) == 5):
                raise DataError(
                    f"{where}: relation {number} must be [head_start, head_end, tail_start, tail_end, type]"
                )
            head, tail = (item[0], item[1]), (item[2], item[3])
            for role, span in (("head", head), ("tail", tail)):
                if span not in entity_index:
                    raise DataError(
                        f"{where}: relation {number} has {role} span {list(span)}, which is not an "
                        "entity of this sentence's 'ner' list"
                    )
            converted.append((entity_index[head], entity_index[tail], item[4]))
        return Sentence(tokens, entities, converted)

from typing import Iterable, Tuple

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats import dygie
from spert_mt_plugin.formats.sentence import Sentence


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
        for location, sentence in dygie.read_sentences(file_path):
            yield location, dygie.match_type_case(sentence, self.types)

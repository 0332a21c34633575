from typing import Iterable, Tuple

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats import spert_json
from spert_mt_plugin.formats.sentence import Sentence


@DatasetReader.register("spert_json")
class SpertJsonReader(SpanRelationReader):
    """
    Reads the SpERT JSON format: a JSON array (or JSON Lines) of documents
    `{"tokens": [...], "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
    "orig_id": ...}` with exclusive entity ends and relations pointing into `entities`.
    A document without both `entities` and `relations` is unannotated text: read for prediction,
    an error in training and evaluation (see `require_annotation`); one of the two alone is an
    error.

    Registered as a `DatasetReader` with name "spert_json". Parameters: see `SpanRelationReader`.
    """

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        return spert_json.read_sentences(file_path)

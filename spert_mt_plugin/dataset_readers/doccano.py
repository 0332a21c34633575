from typing import Iterable

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.raw_text_reader import DocumentSentences, RawTextReader
from spert_mt_plugin.formats import doccano


@DatasetReader.register("doccano")
class DoccanoReader(RawTextReader):
    """
    Reads doccano's JSONL export of a relation extraction project (one record a line: `text`,
    `entities` with `start_offset`/`end_offset`/`label`, `relations` with `from_id`/`to_id`/`type`;
    other keys ignored; a sequence labeling project's `label` list is read too). spaCy tokenises
    each text and splits it into sentences, and each sentence becomes an instance, as in the brat
    reader: an entity boundary inside a word splits the word, an entity across a sentence boundary
    joins the sentences. What cannot be represented (a relation across sentences or from an entity
    to itself) is counted in the log and listed in the report, never dropped silently; malformed
    records are errors naming the file, line and record id. Details: `spert_mt_plugin.formats.doccano`.
    A record without `entities`/`relations` (and `label`) is unannotated text (prediction input;
    an error in training and evaluation).

    Registered as a `DatasetReader` with name "doccano". The data path is the JSONL file.

    # Parameters

    Other parameters: see `RawTextReader` (`language`, `report_file`, `serialization_dir`; the
    report's `line` is the record's line) and `SpanRelationReader`.
    """

    def _documents(self, file_path: str) -> Iterable[DocumentSentences]:
        return doccano.read_file(file_path, self._nlp, self.types)

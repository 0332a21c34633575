from functools import cached_property
from typing import Iterable, List, Optional, Tuple

from allennlp.data import DatasetReader
from spacy.language import Language

from spert_mt_plugin.dataset_readers.brat import report_path
from spert_mt_plugin.dataset_readers.skipped_report import report_skipped
from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats import doccano
from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.text import blank_pipeline


@DatasetReader.register("doccano")
class DoccanoReader(SpanRelationReader):
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

    language : `str`, optional (default = `"en"`)
        The spaCy language of the rule-based tokenizer and sentencizer (no download needed).
    report_file : `str`, optional (default = `None`)
        Where to write the report (JSON Lines: file, line, kind, annotation, reason) of every
        annotation that could not be represented; each read appends its file's report. A relative
        path is inside the run's folder in training, else relative to the current folder.
    serialization_dir : `str`, optional
        The run's folder; AllenNLP passes it when it builds the reader for training.
    Other parameters: see `SpanRelationReader`.
    """

    def __init__(
        self, language: str = "en", report_file: Optional[str] = None, serialization_dir: Optional[str] = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self._language = language
        self._report_file = report_path(report_file, serialization_dir)
        self.last_report: List[Skipped] = []

    @cached_property
    def _nlp(self) -> Language:
        return blank_pipeline(self._language)

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        skipped: List[Skipped] = []
        for record_skipped, sentences in doccano.read_file(file_path, self._nlp, self.types):
            skipped.extend(record_skipped)
            yield from sentences
        self.last_report = skipped
        report_skipped(file_path, skipped, self._report_file)

from functools import cached_property
from typing import Iterable, List, Optional, Tuple

from allennlp.data import DatasetReader
from spacy.language import Language

from spert_mt_plugin.dataset_readers.brat import report_path
from spert_mt_plugin.dataset_readers.skipped_report import report_skipped
from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats import label_studio
from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.text import blank_pipeline


@DatasetReader.register("label_studio")
class LabelStudioReader(SpanRelationReader):
    """
    Reads Label Studio's JSON export of a text project with labels and relations (a list of tasks:
    `data` with the text, `annotations` whose `result` holds `labels` regions by character offsets
    and `relation` items). Of each task the first annotation that was not cancelled is read.
    spaCy tokenises each text and splits it into sentences, and each sentence becomes an instance,
    as in the brat reader. What cannot be represented (a region with several labels or none, a
    relation to it or without a label, a "bi" relation of a type the types file does not mark
    symmetric, a relation across sentences, results other than labels and relations, a task whose
    every annotation was cancelled) is counted in the log and listed in the report, never dropped
    silently; malformed tasks are errors naming the file, the task's index and id. Details:
    `spert_mt_plugin.formats.label_studio`. A task without annotations is unannotated text
    (prediction input; an error in training and evaluation).

    Registered as a `DatasetReader` with name "label_studio". The data path is the JSON file.

    # Parameters

    data_key : `str`, optional (default = `"text"`)
        The key of the text in each task's `data` (the `value="$text"` of the labeling config's
        Text tag).
    language : `str`, optional (default = `"en"`)
        The spaCy language of the rule-based tokenizer and sentencizer (no download needed).
    report_file : `str`, optional (default = `None`)
        Where to write the report (JSON Lines: file, line (here the task's index), kind,
        annotation, reason) of every annotation that could not be represented; each read appends
        its file's report. A relative path is inside the run's folder in training, else relative
        to the current folder.
    serialization_dir : `str`, optional
        The run's folder; AllenNLP passes it when it builds the reader for training.
    Other parameters: see `SpanRelationReader`.
    """

    def __init__(
        self,
        data_key: str = "text",
        language: str = "en",
        report_file: Optional[str] = None,
        serialization_dir: Optional[str] = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self._data_key = data_key
        self._language = language
        self._report_file = report_path(report_file, serialization_dir)
        self.last_report: List[Skipped] = []

    @cached_property
    def _nlp(self) -> Language:
        return blank_pipeline(self._language)

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        skipped: List[Skipped] = []
        for task_skipped, sentences in label_studio.read_file(file_path, self._nlp, self.types, self._data_key):
            skipped.extend(task_skipped)
            yield from sentences
        self.last_report = skipped
        report_skipped(file_path, skipped, self._report_file)

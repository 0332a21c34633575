from typing import Iterable

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.raw_text_reader import DocumentSentences, RawTextReader
from spert_mt_plugin.formats import label_studio


@DatasetReader.register("label_studio")
class LabelStudioReader(RawTextReader):
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
    Other parameters: see `RawTextReader` (`language`, `report_file`, `serialization_dir`; the
    report's `line` is the task's index) and `SpanRelationReader`.
    """

    def __init__(self, data_key: str = "text", **kwargs) -> None:
        super().__init__(**kwargs)
        self._data_key = data_key

    def _documents(self, file_path: str) -> Iterable[DocumentSentences]:
        return label_studio.read_file(file_path, self._nlp, self.types, self._data_key)

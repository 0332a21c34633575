from typing import Iterable

from allennlp.data import DatasetReader

from spert_mt_plugin.dataset_readers.raw_text_reader import DocumentSentences, RawTextReader
from spert_mt_plugin.formats.brat_sentences import read_folder


@DatasetReader.register("brat")
class BratReader(RawTextReader):
    """
    Reads a folder (searched recursively) of brat standoff pairs, `name.txt` + `name.ann`: spaCy
    tokenises the text and splits it into sentences, and each sentence becomes an instance. How
    annotations map to sentences, and what cannot be represented (discontinuous entities,
    relations across sentences, events, attributes, normalisations, notes), is described in
    `spert_mt_plugin.formats.brat` and `formats.brat_sentences`: each such annotation is counted in
    the log and listed in the report, never dropped silently. A `.txt` without its `.ann` is
    unannotated text (prediction input; an error in training and evaluation). Equivalence sets
    (`*`) expand into one relation per pair when the types file marks their type symmetric (or
    when there is no types file).

    Registered as a `DatasetReader` with name "brat". The data path is the folder.

    # Parameters

    See `RawTextReader` (`language`, `report_file`, `serialization_dir`) and `SpanRelationReader`.
    """

    def _documents(self, file_path: str) -> Iterable[DocumentSentences]:
        for document, sentences in read_folder(file_path, self._nlp, self.types, self.require_annotation):
            yield document.skipped, sentences

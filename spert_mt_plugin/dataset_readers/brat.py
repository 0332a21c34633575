import json
import logging
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from allennlp.data import DatasetReader
from spacy.language import Language

from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.brat_sentences import read_folder
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.text import blank_pipeline

logger = logging.getLogger(__name__)


def report_path(report_file: Optional[str], serialization_dir: Optional[str]) -> Optional[str]:
    """`report_file`, a relative one inside `serialization_dir` when there is one."""
    if report_file is None or serialization_dir is None or Path(report_file).is_absolute():
        return report_file
    return str(Path(serialization_dir) / report_file)


@DatasetReader.register("brat")
class BratReader(SpanRelationReader):
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

    language : `str`, optional (default = `"en"`)
        The spaCy language of the rule-based tokenizer and sentencizer (no download needed).
    report_file : `str`, optional (default = `None`)
        Where to write the report (JSON Lines: file, line, kind, annotation, reason) of every
        annotation that could not be represented. Each read appends the report of its folder. A
        relative path is inside the run's folder in training (`allennlp train -s RUN`: RUN/path),
        so that runs do not overwrite each other's report, else relative to the current folder.
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
        for document, sentences in read_folder(file_path, self._nlp, self.types, self.require_annotation):
            skipped.extend(document.skipped)
            yield from sentences
        self.last_report = skipped
        if skipped:
            counts = Counter(item.kind for item in skipped)
            logger.warning(
                "%s: %d annotations cannot be represented and were left out: %s%s",
                file_path,
                len(skipped),
                ", ".join(f"{count} {kind}" for kind, count in counts.most_common()),
                f" (listed in {self._report_file})" if self._report_file else " (set report_file for the list)",
            )
        if self._report_file:
            path = Path(self._report_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                for item in skipped:
                    handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")

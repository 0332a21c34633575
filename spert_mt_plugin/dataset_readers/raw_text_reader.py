"""
What the readers of raw-text annotation (brat, doccano, Label Studio) share: spaCy's rule-based
tokenizer and sentencizer, and the report of the annotations that cannot be represented.
"""

import json
import logging
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from spacy.language import Language

from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader
from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.text import blank_pipeline

logger = logging.getLogger(__name__)

# Per document, record or task: what it could not represent, and its sentences.
DocumentSentences = Tuple[List[Skipped], Iterable[Tuple[str, Sentence]]]


def report_path(report_file: Optional[str], serialization_dir: Optional[str]) -> Optional[str]:
    """`report_file`, a relative one inside `serialization_dir` when there is one."""
    if report_file is None or serialization_dir is None or Path(report_file).is_absolute():
        return report_file
    return str(Path(serialization_dir) / report_file)


def report_skipped(file_path: str, skipped: List[Skipped], report_file: Optional[str]) -> None:
    """Logs how many annotations of `file_path` were left out, by kind, and appends them to `report_file`."""
    if skipped:
        counts = Counter(item.kind for item in skipped)
        logger.warning(
            "%s: %d annotations cannot be represented and were left out: %s%s",
            file_path,
            len(skipped),
            ", ".join(f"{count} {kind}" for kind, count in counts.most_common()),
            f" (listed in {report_file})" if report_file else " (set report_file for the list)",
        )
    if report_file:
        path = Path(report_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            for item in skipped:
                handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")


class RawTextReader(SpanRelationReader):
    """
    Base class of the readers of annotation by character offsets into raw text. Subclasses
    implement `_documents`, yielding per document what could not be represented and its
    sentences (the `formats` package's readers do the work); this class logs and reports the
    former (`last_report` keeps the last read's list) and yields the latter.

    # Parameters

    language : `str`, optional (default = `"en"`)
        The spaCy language of the rule-based tokenizer and sentencizer (no download needed).
    report_file : `str`, optional (default = `None`)
        Where to write the report (JSON Lines: file, line, kind, annotation, reason) of every
        annotation that could not be represented; each read appends its input's report. A
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
        # Built on first use: a reader made only to build instances for prediction needs none.
        return blank_pipeline(self._language)

    def _documents(self, file_path: str) -> Iterable[DocumentSentences]:
        raise NotImplementedError

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        skipped: List[Skipped] = []
        for document_skipped, sentences in self._documents(file_path):
            skipped.extend(document_skipped)
            yield from sentences
        self.last_report = skipped
        report_skipped(file_path, skipped, self._report_file)

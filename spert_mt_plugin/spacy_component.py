"""
A spaCy pipeline component that runs a trained spert-mt model:

    nlp = spacy.blank("en")            # or any pipeline; sentences come from it if it sets them
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("spert_mt", config={"archive": "runs/main/model.tar.gz"})
    doc = nlp("Steve Jobs founded Apple in Cupertino.")
    doc.spans["spert_mt"]              # every predicted entity, nested ones too; scores in .attrs
    doc.ents                           # the best-scoring non-overlapping subset
    doc._.spert_mt_relations           # [Relation(head=Span, tail=Span, label, score), ...]

The factory is registered through the `spacy_factories` entry point of the package, so
`add_pipe("spert_mt")` works without importing `spert_mt_plugin` first.
"""

import logging
from typing import Iterable, Iterator, List, NamedTuple, Optional, Tuple

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

logger = logging.getLogger(__name__)

RELATIONS_EXTENSION = "spert_mt_relations"


class Relation(NamedTuple):
    head: Span
    tail: Span
    label: str
    score: float


if not Doc.has_extension(RELATIONS_EXTENSION):
    Doc.set_extension(RELATIONS_EXTENSION, default=None)


@Language.factory(
    "spert_mt",
    default_config={
        "archive": None,
        "cuda_device": -1,
        "spans_key": "spert_mt",
        "set_ents": True,
        "batch_size": 32,
        "max_batch_words": 2048,
        "max_sentence_words": 1000,
    },
)
def make_spert_mt(
    nlp: Language,
    name: str,
    archive: Optional[str],
    cuda_device: int,
    spans_key: str,
    set_ents: bool,
    batch_size: int,
    max_batch_words: int,
    max_sentence_words: int,
) -> "SpertMTComponent":
    if not archive:
        raise ValueError('the spert_mt component needs config={"archive": "path/to/model.tar.gz"}')
    return SpertMTComponent(
        name, archive, cuda_device, spans_key, set_ents, batch_size, max_batch_words, max_sentence_words
    )


class SpertMTComponent:
    """
    # Parameters

    archive : `str`
        A trained spert-mt model (`model.tar.gz`).
    cuda_device : `int`
        GPU id, -1 for CPU.
    spans_key : `str`
        Key of `doc.spans` that receives every predicted entity (nested ones included), with the
        entity type as label; `doc.spans[key].attrs["scores"]` holds their scores, in order.
    set_ents : `bool`
        Also set `doc.ents` to the best-scoring non-overlapping entities (replacing those of an
        earlier component).
    batch_size, max_batch_words : `int`
        Most sentences and padded words per forward pass (across the docs of `nlp.pipe`), so
        memory is bounded whatever the documents' length.
    max_sentence_words : `int`
        A longer sentence (for instance text without punctuation) is cut into pieces of this many
        words, with a warning; relations across the cut are not predicted.

    Sentences come from the pipeline when it sets them (a sentencizer, a parser), else from
    spaCy's rule-based sentencizer, without changing the doc. Whitespace tokens are skipped.
    """

    def __init__(
        self,
        name: str,
        archive: str,
        cuda_device: int = -1,
        spans_key: str = "spert_mt",
        set_ents: bool = True,
        batch_size: int = 32,
        max_batch_words: int = 2048,
        max_sentence_words: int = 1000,
    ) -> None:
        from allennlp.predictors import Predictor

        import spert_mt_plugin  # noqa: F401  (registers the model, reader and predictor)

        self.name = name
        self.spans_key = spans_key
        self.set_ents = set_ents
        self.max_sentence_words = max_sentence_words
        self.predictor = Predictor.from_path(
            archive,
            predictor_name="spert_mt",
            cuda_device=cuda_device,
            batch_size=batch_size,
            max_batch_words=max_batch_words,
            max_sentence_words=max_sentence_words,
        )
        self._sentencizer = Sentencizer()

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            pieces = [(index, words) for index, doc in enumerate(docs) for words in self._sentences(doc)]
            sentences = [([docs[index][t].text for t in words], None) for index, words in pieces]
            outputs = self.predictor.predict_sentences(sentences)
            per_doc: List[List[Tuple[List[int], dict]]] = [[] for _ in docs]
            for (index, words), output in zip(pieces, outputs):
                per_doc[index].append((words, output))
            for doc, sentences in zip(docs, per_doc):
                self._annotate(doc, sentences)
                yield doc

    def _sentences(self, doc: Doc) -> List[List[int]]:
        """Token indices of each sentence (whitespace left out), long ones cut to `max_sentence_words`."""
        if doc.has_annotation("SENT_START"):
            bounds = [(sentence.start, sentence.end) for sentence in doc.sents]
        else:
            starts = [i for i, tag in enumerate(self._sentencizer.predict([doc])[0]) if tag or i == 0]
            bounds = list(zip(starts, starts[1:] + [len(doc)]))
        sentences = []
        for start, end in bounds:
            words = [i for i in range(start, end) if not doc[i].is_space]
            if len(words) > self.max_sentence_words:
                logger.warning(
                    "a sentence of %d words is cut into pieces of %d (max_sentence_words)",
                    len(words),
                    self.max_sentence_words,
                )
            for piece in range(0, len(words), self.max_sentence_words):
                if words[piece : piece + self.max_sentence_words]:
                    sentences.append(words[piece : piece + self.max_sentence_words])
        return sentences

    def _annotate(self, doc: Doc, sentences: List[Tuple[List[int], dict]]) -> None:
        spans: List[Span] = []
        scores: List[float] = []
        relations: List[Relation] = []
        for words, output in sentences:
            entity_spans = []
            for entity in output["entities"]:
                span = Span(doc, words[entity["start"]], words[entity["end"] - 1] + 1, label=entity["type"])
                entity_spans.append(span)
                spans.append(span)
                scores.append(float(entity["score"]))
            for relation in output["relations"]:
                head, tail = entity_spans[relation["head"]], entity_spans[relation["tail"]]
                relations.append(Relation(head, tail, relation["type"], float(relation["score"])))
        doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, spans=spans, attrs={"scores": scores})
        doc._.set(RELATIONS_EXTENSION, relations)
        if self.set_ents:
            doc.ents = best_non_overlapping(spans, scores)


def best_non_overlapping(spans: List[Span], scores: List[float]) -> List[Span]:
    """Greedily the highest-scoring spans that overlap none taken before (ties: longer first)."""
    taken: List[Span] = []
    used = set()
    for span, _ in sorted(zip(spans, scores), key=lambda pair: (-pair[1], -len(pair[0]), pair[0].start)):
        if not used.intersection(range(span.start, span.end)):
            taken.append(span)
            used.update(range(span.start, span.end))
    return sorted(taken, key=lambda span: span.start)

"""
A spaCy pipeline component that runs a trained spert-mt model:

    nlp = spacy.blank("en")            # or any pipeline; sentences come from it if it sets them
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("spert_mt", config={"archive": "runs/main/model.tar.gz"})
    doc = nlp("Steve Jobs founded Apple in Cupertino.")
    doc.spans["spert_mt"]              # every predicted entity, nested ones too; scores in .attrs
    doc.ents                           # the best-scoring non-overlapping subset
    doc._.spert_mt_relations           # [Relation(head=Span, tail=Span, label, score), ...]
                                       # over every entity of doc.spans; .in_ents: both in doc.ents

Relations are stored as token offsets, labels and scores in the span group's attrs
(`spacy_relations`), so `doc.to_bytes()`, `DocBin()` (default or `store_user_data=True`) and
`nlp.pipe(n_process=2)` keep every entity and relation.

The factory is registered through the `spacy_factories` entry point of the package, so
`add_pipe("spert_mt")` works without importing `spert_mt_plugin` first.
"""

import logging
import os
from typing import Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

from spert_mt_plugin.inference.prediction_settings import PredictionSettings
from spert_mt_plugin.spacy_relations import RELATIONS_ATTR, RELATIONS_EXTENSION, Relation, get_relations

logger = logging.getLogger(__name__)

# Where users of the component have always found them.
__all__ = ["RELATIONS_ATTR", "RELATIONS_EXTENSION", "Relation", "SpertMTComponent", "get_relations", "make_spert_mt"]


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
        "entity_threshold": None,
        "relation_threshold": None,
        "use_doc_ents": False,
        "precision": "auto",
        "entity_decoding": None,
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
    entity_threshold: Optional[float],
    relation_threshold: Optional[float],
    use_doc_ents: bool,
    precision: str,
    entity_decoding: Optional[str],
) -> "SpertMTComponent":
    if not archive:
        raise ValueError('the spert_mt component needs config={"archive": "path/to/model.tar.gz"}')
    return SpertMTComponent(
        name,
        archive,
        cuda_device,
        spans_key,
        set_ents,
        batch_size,
        max_batch_words,
        max_sentence_words,
        entity_threshold,
        relation_threshold,
        precision,
        use_doc_ents=use_doc_ents,
        entity_decoding=entity_decoding,
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
    entity_threshold, relation_threshold : `Optional[float]`
        The least score an entity / a relation needs, instead of the model's (`None` keeps it);
        `allennlp spert-thresholds` shows what each value gives on a labelled file (docs/scores.md).
    use_doc_ents : `bool`
        Take the doc's entities (`doc.ents`, from an earlier component or set by hand) as the
        entities and predict only the relations among them; `doc.ents` and their labels stay as
        they are, `doc.spans[spans_key]` holds them with the model's score of its best type. An
        entity across a sentence boundary cannot be related and is left out with a warning.
    precision : `str`
        The arithmetic of prediction (`float32`, `bfloat16`, `onnx`, `onnx-int8`), or
        `auto` for the machine's default (docs/speed.md, "Precision modes").
    entity_decoding : `Optional[str]`
        `flat` (no two entities of `doc.spans[spans_key]` share a token), `nested` or `auto`,
        instead of the model's (`None` keeps it; a model trained without nested entities decodes
        flat); docs/serving.md, "Flat or nested entities".

    Sentences come from the pipeline when it sets them (a sentencizer, a parser), else from
    spaCy's rule-based sentencizer, without changing the doc. Whitespace tokens are skipped.

    # Relations and `doc.ents`

    `doc._.spert_mt_relations` lists every predicted relation, between any two entities of
    `doc.spans[spans_key]`: a relation is never dropped because `doc.ents`, which cannot hold
    overlapping spans, left out one of its arguments (in "University of Oslo" located in "Oslo"
    at most one argument can be an entity of `doc.ents`). `relation.in_ents` says whether both
    arguments are entities of `doc.ents` (same tokens and type) when it is read; keep only those
    relations to stay within `doc.ents`.

    The relations live in `doc.spans[spans_key].attrs["spert_mt_relations"]` as plain data
    (`{"head": [start, end, type], "tail": [start, end, type], "label": ..., "score": ...}`, token
    offsets), which every serialisation of the span group keeps; the extension is a getter that
    turns them into `Relation`s, and is `None` on a doc the component has not processed.
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
        entity_threshold: Optional[float] = None,
        relation_threshold: Optional[float] = None,
        precision: str = "auto",
        use_doc_ents: bool = False,
        entity_decoding: Optional[str] = None,
    ) -> None:
        import spert_mt_plugin  # noqa: F401  (registers the model, reader and predictor)
        from spert_mt_plugin.archives import load_predictor

        self.name = name
        self.spans_key = spans_key
        self.set_ents = set_ents
        self.use_doc_ents = use_doc_ents
        self.max_sentence_words = max_sentence_words
        # A bad archive: an ArchiveError naming it, not AllenNLP's or torch's error from inside.
        self.predictor = load_predictor(
            archive,
            predictor_name="spert_mt",
            cuda_device=cuda_device,
            batch_size=batch_size,
            max_batch_words=max_batch_words,
            max_sentence_words=max_sentence_words,
            **PredictionSettings(precision, entity_threshold, relation_threshold, entity_decoding)._asdict(),
        )
        self._sentencizer = Sentencizer()
        self._process = os.getpid()

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        if os.getpid() != self._process:
            # A process forked by nlp.pipe(n_process=N) inherits torch's OpenMP thread pool in a
            # state it cannot use: its first parallel operation hangs. One process per core is the
            # point of n_process, so each runs one thread.
            import torch

            torch.set_num_threads(1)
            self._process = os.getpid()
        for docs in minibatch(stream, size=batch_size):
            pieces = [(index, words) for index, doc in enumerate(docs) for words in self._sentences(doc)]
            sentences = [([docs[index][t].text for t in words], None) for index, words in pieces]
            given = [self._doc_entities(docs[index], words) for index, words in pieces] if self.use_doc_ents else None
            self._warn_unrelatable(docs, given, pieces)
            outputs = self.predictor.predict_sentences(sentences, given)
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

    @staticmethod
    def _doc_entities(doc: Doc, words: List[int]) -> List[Tuple[int, int, None]]:
        """The entities of `doc.ents` inside the sentence of token indices `words`, as word spans."""
        position = {token: place for place, token in enumerate(words)}
        given = []
        for ent in doc.ents:
            tokens = [i for i in range(ent.start, ent.end) if not doc[i].is_space]
            if tokens and all(i in position for i in tokens):
                # The model's best type scores the span; the doc's label is put back in _annotate.
                given.append((position[tokens[0]], position[tokens[-1]] + 1, None))
        return given

    @staticmethod
    def _warn_unrelatable(docs: List[Doc], given: Optional[List[list]], pieces: List[Tuple[int, List[int]]]) -> None:
        if given is None:
            return
        placed = [0] * len(docs)
        for (index, _), entities in zip(pieces, given):
            placed[index] += len(entities)
        for doc, count in zip(docs, placed):
            missing = len(doc.ents) - count
            if missing:
                logger.warning(
                    "%d of the doc's %d entities cross a sentence boundary: no relation is predicted for them",
                    missing,
                    len(doc.ents),
                )

    def _annotate(self, doc: Doc, sentences: List[Tuple[List[int], dict]]) -> None:
        labels = {(ent.start, ent.end): ent.label_ for ent in doc.ents} if self.use_doc_ents else {}
        spans: List[Span] = []
        scores: List[float] = []
        relations: List[dict] = []
        for words, output in sentences:
            entity_spans = []
            for entity in output["entities"]:
                start, end = words[entity["start"]], words[entity["end"] - 1] + 1
                span = Span(doc, start, end, label=labels.get((start, end), entity["type"]))
                entity_spans.append(span)
                spans.append(span)
                scores.append(float(entity["score"]))
            for relation in output["relations"]:
                head, tail = entity_spans[relation["head"]], entity_spans[relation["tail"]]
                relations.append(
                    {
                        "head": [head.start, head.end, head.label_],
                        "tail": [tail.start, tail.end, tail.label_],
                        "label": relation["type"],
                        "score": float(relation["score"]),
                    }
                )
        attrs = {"scores": scores, RELATIONS_ATTR: relations}
        doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, spans=spans, attrs=attrs)
        if self.set_ents and not self.use_doc_ents:
            doc.ents = best_non_overlapping(spans, scores)


def best_non_overlapping(spans: List[Span], scores: List[float]) -> List[Span]:
    """
    Greedily the highest-scoring spans that overlap none taken before. Ties go as in the model's
    flat decoding (`modules.span_overlap.best_non_overlapping`): the earlier candidate first, and
    candidates run by start, then by width.
    """
    taken: List[Span] = []
    used = set()
    for span, _ in sorted(zip(spans, scores), key=lambda pair: (-pair[1], pair[0].start, len(pair[0]))):
        if not used.intersection(range(span.start, span.end)):
            taken.append(span)
            used.update(range(span.start, span.end))
    return sorted(taken, key=lambda span: span.start)

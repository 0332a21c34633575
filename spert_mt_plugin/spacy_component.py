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

Relations are stored as token offsets, labels and scores in the span group's attrs, so
`doc.to_bytes()`, `DocBin()` (default or `store_user_data=True`) and `nlp.pipe(n_process=2)`
keep every entity and relation.

The factory is registered through the `spacy_factories` entry point of the package, so
`add_pipe("spert_mt")` works without importing `spert_mt_plugin` first.
"""

import logging
import os
from typing import Iterable, Iterator, List, NamedTuple, Optional, Tuple

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import minibatch

logger = logging.getLogger(__name__)

RELATIONS_EXTENSION = "spert_mt_relations"
# Key of the span group's attrs that holds the relations as plain lists, dicts, strings and
# numbers: the group and its attrs are what `doc.to_bytes`, any `DocBin` and `nlp.pipe(n_process=...)`
# carry, whereas Span objects in `doc.user_data` cannot be serialised at all.
RELATIONS_ATTR = "spert_mt_relations"


class Relation(NamedTuple):
    head: Span
    tail: Span
    label: str
    score: float

    @property
    def in_ents(self) -> bool:
        """Whether both arguments are entities of `doc.ents` now (same tokens, same type)."""
        ents = {(ent.start, ent.end, ent.label_) for ent in self.head.doc.ents}
        return all((span.start, span.end, span.label_) in ents for span in (self.head, self.tail))


def get_relations(doc: Doc) -> Optional[List[Relation]]:
    """
    The relations stored in the attrs of the doc's span groups (`None` if the component has not
    run), as `Relation`s whose arguments are new `Span`s of `doc`.
    """
    groups = [group for group in doc.spans.values() if RELATIONS_ATTR in group.attrs]
    if not groups:
        return None
    relations: List[Relation] = []
    seen = set()
    for group in groups:
        for stored in group.attrs[RELATIONS_ATTR]:
            key = (tuple(stored["head"]), tuple(stored["tail"]), stored["label"])
            # A group copied to another key carries the same relations: list them once.
            if key in seen:
                continue
            seen.add(key)
            head, tail = (Span(doc, start, end, label=label) for start, end, label in (stored["head"], stored["tail"]))
            relations.append(Relation(head, tail, stored["label"], float(stored["score"])))
    return relations


# force: a reloaded module replaces the getter instead of keeping a stale one.
Doc.set_extension(RELATIONS_EXTENSION, getter=get_relations, force=True)


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
    ) -> None:
        import spert_mt_plugin  # noqa: F401  (registers the model, reader and predictor)
        from spert_mt_plugin.archives import load_predictor

        self.name = name
        self.spans_key = spans_key
        self.set_ents = set_ents
        self.max_sentence_words = max_sentence_words
        # A bad archive: an ArchiveError naming it, not AllenNLP's or torch's error from inside.
        self.predictor = load_predictor(
            archive,
            predictor_name="spert_mt",
            cuda_device=cuda_device,
            batch_size=batch_size,
            max_batch_words=max_batch_words,
            max_sentence_words=max_sentence_words,
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
        relations: List[dict] = []
        for words, output in sentences:
            entity_spans = []
            for entity in output["entities"]:
                span = Span(doc, words[entity["start"]], words[entity["end"] - 1] + 1, label=entity["type"])
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

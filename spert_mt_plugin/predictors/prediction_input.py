"""
The predictor's input checked and turned into sentences of words, in one place for the three ways
to predict: `allennlp predict` (one JSON object a line), the HTTP service (one object or a batch
of them a request) and the Python API (`predict_sentences`, which the spaCy component calls).
A bad input is an `InputError` naming it (its line, or `instances[i]` of a batch); one over a size
limit an `InputTooLarge` naming the limit.
"""

import json
from functools import cached_property
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

from allennlp.common.util import JsonDict
from allennlp.data import Vocabulary
from spacy.language import Language

from spert_mt_plugin.dataset_readers.span_relation_reader import GivenEntity
from spert_mt_plugin.formats.text import blank_pipeline, parse
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.predictors.given_entities import (
    GivenEntityError,
    character_entities,
    word_entities,
    word_span_entities,
)


class InputError(ValueError):
    """A prediction request that cannot be served; the message says why (HTTP 400)."""


class InputTooLarge(InputError):
    """A prediction request over one of the predictor's size limits; the message names it (HTTP 413)."""


class Prepared(NamedTuple):
    """One sentence ready for the model."""

    words: List[str]
    # Character offsets of the words in the input text; None for pre-tokenised input.
    offsets: Optional[List[Tuple[int, int]]]
    doc_id: Optional[str]
    # The user's entities (start, exclusive end, type or None), None to predict entities.
    entities: Optional[List[GivenEntity]] = None


class PredictionInput:
    """
    Checks input objects (`tokens`, `sentence` or `document`, optionally `entities`; see
    `SpertMTPredictor`) against the model's entity types and the size limits, and splits them into
    sentences of words.

    # Parameters

    vocab : `Vocabulary`
        The model's: the types a given entity may name.
    language : `str`
        The spaCy language whose rule-based tokenizer and sentencizer handle raw text.
    max_words : `int`, optional
        Most words in one request (`None`: no limit).
    max_sentence_words : `int`
        Longest sentence accepted, in words.
    """

    def __init__(self, vocab: Vocabulary, language: str, max_words: Optional[int], max_sentence_words: int) -> None:
        self._vocab = vocab
        self._language = language
        self._max_words = max_words
        self._max_sentence_words = max_sentence_words
        self.lines_read = 0

    @cached_property
    def _nlp(self) -> Language:
        return blank_pipeline(self._language)

    @cached_property
    def _entity_types(self) -> List[str]:
        # The types a given entity may name: the model's, fixed once it is loaded.
        return LabelIndex(self._vocab).entity_types

    def load_line(self, line: str) -> JsonDict:
        """One line of `allennlp predict`'s input, parsed; its line number is kept to name it in errors."""
        # `allennlp predict` hands us every non-blank line: count them to name bad ones.
        self.lines_read += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"input line {self.lines_read}: not valid JSON ({error.msg})") from None
        if isinstance(value, dict):
            value.setdefault("_line", self.lines_read)
        return value

    def sentences(self, inputs: JsonDict, index: Optional[int] = None) -> List[Prepared]:
        """Validates one input object (item `index` of a batch, if given) and turns it into sentences of words."""
        # The name the user can find the input by: its line for `allennlp predict`, else its place
        # in the batch (0-based, as in `instances[1]` of the HTTP request).
        where = "input" if index is None else f"instances[{index}]"
        if not isinstance(inputs, dict):
            prefix = "" if index is None else f"{where}: "
            raise InputError(f"{prefix}each input must be a JSON object, got {type(inputs).__name__}")
        if "_line" in inputs:
            where = f"input line {inputs['_line']}"
        keys = [key for key in ("tokens", "sentence", "document") if key in inputs]
        if len(keys) != 1:
            raise InputError(
                f"{where}: give exactly one of 'tokens' (a list of words), 'sentence' or 'document' "
                f"(raw text); got keys {sorted(k for k in inputs if k != '_line')}"
            )
        key, value = keys[0], inputs[keys[0]]
        doc_id = inputs.get("orig_id")
        if key == "tokens":
            if not isinstance(value, list) or not value:
                raise InputError(f"{where}: 'tokens' must be a non-empty list of strings")
            for index, token in enumerate(value):
                if not isinstance(token, str) or not token.strip():
                    raise InputError(f"{where}: token {index} must be a non-empty string, got {token!r}")
            prepared = [Prepared(list(value), None, doc_id)]
        else:
            if not isinstance(value, str):
                raise InputError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
            # spaCy makes at least one word of each whitespace-separated chunk: refuse a text that
            # is certainly too long before spending seconds tokenising it.
            if self._max_words is not None and len(value.split()) > self._max_words:
                raise InputTooLarge(
                    f"{where}: the text has over {self._max_words} words, the limit per request "
                    "(max_words); split it into several requests"
                )
            prepared = self._words_with_offsets(value, where, split_sentences=(key == "document"))
            if not prepared:
                raise InputError(f"{where}: the text has no words")
            prepared = [sentence._replace(doc_id=doc_id) for sentence in prepared]
        if "entities" in inputs:
            prepared = self._with_given_entities(prepared, inputs["entities"], where)
        self._check_size(prepared, where)
        return prepared

    def _words_with_offsets(self, text: str, where: str, split_sentences: bool) -> List[Prepared]:
        if not text.strip():
            raise InputError(f"{where}: the text is empty")
        # Text of any length is parsed: the word limits below bound what reaches the model.
        document = parse(self._nlp, text)
        groups = list(document.sents) if split_sentences else [document]
        prepared = []
        for group in groups:
            # Whitespace tokens (double spaces, newlines) are not words.
            words = [token for token in group if not token.is_space]
            if words:
                offsets = [(t.idx, t.idx + len(t.text)) for t in words]
                prepared.append(Prepared([t.text for t in words], offsets, None))
        return prepared

    def _with_given_entities(self, prepared: List[Prepared], entities: Any, where: str) -> List[Prepared]:
        """The sentences with the user's entities: word spans for `tokens`, character spans for raw text."""
        known_types = self._entity_types
        try:
            if prepared[0].offsets is None:
                per_sentence = [word_entities(entities, len(prepared[0].words), known_types)]
            else:
                per_sentence = character_entities(entities, [p.offsets for p in prepared], known_types)
        except GivenEntityError as error:
            raise InputError(f"{where}: {error}") from None
        return [sentence._replace(entities=given) for sentence, given in zip(prepared, per_sentence)]

    def _check_size(self, prepared: List[Prepared], where: str) -> None:
        for index, sentence in enumerate(prepared):
            if len(sentence.words) > self._max_sentence_words:
                which = f"sentence {index} " if len(prepared) > 1 else "the sentence "
                raise InputTooLarge(
                    f"{where}: {which}has {len(sentence.words)} words, over the limit of "
                    f"{self._max_sentence_words} words per sentence (max_sentence_words)"
                )

    def check_request(self, prepared: List[List[Prepared]]) -> None:
        """The sentences of all the inputs of one request, within `max_words`."""
        total = sum(len(sentence.words) for sentences in prepared for sentence in sentences)
        if self._max_words is not None and total > self._max_words:
            raise InputTooLarge(
                f"the input has {total} words, over the limit of {self._max_words} words per request "
                "(max_words); split it into several requests"
            )

    def given_word_spans(
        self, sentences: Sequence[Tuple[List[str], Optional[str]]], entities: Optional[Sequence[Any]]
    ) -> List[Optional[List[GivenEntity]]]:
        """
        The entities given to `predict_sentences`, parallel to `sentences` (`None`: none given),
        checked to be spans of their sentence's words with a type of the model or `None`.
        """
        entities = list(entities) if entities is not None else [None] * len(sentences)
        if len(entities) != len(sentences):
            raise InputError(f"entities has {len(entities)} items for {len(sentences)} sentences")
        for index, given in enumerate(entities):
            if given is not None:
                try:
                    entities[index] = word_span_entities(given, len(sentences[index][0]), self._entity_types)
                except GivenEntityError as error:
                    raise InputError(f"sentence {index}: {error}") from None
        return entities


def check_batch(batch: Any, max_batch: int) -> List[Any]:
    """The `instances` of an HTTP request: a non-empty list of at most `max_batch` input objects."""
    if not isinstance(batch, list) or not batch:
        got = "an empty list" if isinstance(batch, list) else type(batch).__name__
        raise InputError(f"'instances' must be a non-empty list of input objects, got {got}")
    if len(batch) > max_batch:
        raise InputTooLarge(
            f"the batch has {len(batch)} instances, over the limit of {max_batch} instances per "
            "request (--max-batch); split it into several requests"
        )
    return batch

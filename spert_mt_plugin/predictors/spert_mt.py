import json
from functools import cached_property
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict, sanitize
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor
from spacy.language import Language

from spert_mt_plugin.dataset_readers.span_relation_reader import GivenEntity, SpanRelationReader
from spert_mt_plugin.formats.text import blank_pipeline, parse
from spert_mt_plugin.inference.precision import prepare_model
from spert_mt_plugin.inference.progress import PredictionProgress
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


@Predictor.register("spert_mt")
class SpertMTPredictor(Predictor):
    """
    Predicts entities and relations for one JSON object per input, in one of three forms:

    - `{"tokens": ["Ada", "works", ...]}`: one pre-tokenised sentence;
    - `{"sentence": "Ada works for Acme."}`: one sentence of raw text, tokenised by spaCy;
    - `{"document": "Several sentences. Of raw text."}`: split into sentences by spaCy's rule-based
      sentencizer, then each sentence as above.

    An optional `"orig_id"` is carried through. An optional `"entities"` list gives the user's own
    entities: the prediction keeps exactly these (in their order, with the given `"type"` or else
    the model's best type, and the model's score of that type) and predicts the relations among
    them. With `tokens` they are word spans `{"start": 0, "end": 2}` (exclusive end, as in SpERT
    JSON); with raw text, character spans `{"char_start": 0, "char_end": 9}` that must start and
    end on word boundaries (and, in a document, lie within one sentence). However long the input, the model sees at most
    `batch_size` sentences and `max_batch_words` padded words at a time (sentences sorted by
    length, so that short ones are not padded to long ones), so memory is bounded; results do not
    depend on how sentences are batched. The output follows the SpERT JSON schema
    (`tokens`, `entities` with `start`/`end`/`type`, `relations` with `head`/`tail`/`type`, indices
    into `entities`) and adds `score` to both, `text` to entities and, for raw text, each entity's
    character offsets `char_start`/`char_end` into the input string. A document gives
    `{"document": ..., "sentences": [one such object per sentence]}`.

    Registered as a `Predictor` with name "spert_mt" (the model's default predictor).

    # Parameters

    language : `str`, optional (default = `"en"`)
        The spaCy language whose rule-based tokenizer and sentencizer handle raw text; no
        downloaded pipeline is needed. Text longer than spaCy's `max_length` is accepted: the
        limit guards spaCy's parser and NER, which this blank pipeline does not run.
    batch_size : `int`, optional (default = `32`)
        Most sentences in one forward pass of the model.
    max_batch_words : `int`, optional (default = `2048`)
        Most words in one forward pass, counted with padding (sentences × longest sentence).
    max_sentence_words : `int`, optional (default = `1000`)
        Longest sentence accepted, in words (memory grows with it: the model scores
        `max_span_width` candidate spans per word). Longer ones are an error naming the limit.
    max_words : `int`, optional (default = `None`)
        Most words in one call of `predict_json` / `predict_batch_json` (for the HTTP service: one
        request), `None` for no limit. `allennlp spert-serve` sets it (`--max-request-words`).
    precision : `str`, optional (default = `None`)
        The arithmetic of prediction: `float32`, `bfloat16`, `onnx` or `onnx-int8`, or
        `None` / `"auto"` for the fastest mode whose F1 stays within 0.3 of float32's on this
        machine (`inference.precision.default_precision`; docs/speed.md). Prepares the model in place.
    entity_threshold, relation_threshold : `float`, optional (default = `None`)
        The least score an entity / a relation needs, replacing the model's (`None` keeps it): see
        `SpertMT.set_thresholds` and docs/scores.md. `allennlp predict --predictor-args
        '{"entity_threshold": 1.2}'`, `spert-serve --entity-threshold`, the spaCy component's
        config; `allennlp spert-thresholds` shows what each value gives on a labelled file.
    entity_decoding : `str`, optional (default = `None`)
        `"flat"` (no two entities share a word), `"nested"` or `"auto"`, replacing the model's
        `entity_decoding` (`None` keeps it; docs/serving.md, "Flat or nested entities").
    """

    def __init__(
        self,
        model: Model,
        dataset_reader: DatasetReader,
        frozen: bool = True,
        language: str = "en",
        batch_size: int = 32,
        max_batch_words: int = 2048,
        max_sentence_words: int = 1000,
        max_words: Optional[int] = None,
        entity_threshold: Optional[float] = None,
        relation_threshold: Optional[float] = None,
        precision: Optional[str] = None,
        entity_decoding: Optional[str] = None,
    ) -> None:
        super().__init__(model, dataset_reader, frozen)
        if not isinstance(dataset_reader, SpanRelationReader):
            raise ConfigurationError(
                "SpertMTPredictor needs a spert-mt dataset reader (spert_json, dygie_jsonl, brat, doccano or "
                f"label_studio), got {type(dataset_reader).__name__}"
            )
        for name, value in (
            ("batch_size", batch_size),
            ("max_batch_words", max_batch_words),
            ("max_sentence_words", max_sentence_words),
        ):
            if value < 1:
                raise ConfigurationError(f"{name} must be at least 1, got {value}")
        # `allennlp predict --use-dataset-reader` reads with this reader: unannotated files are
        # prediction input there.
        dataset_reader.require_annotation = False
        self._language = language
        self._batch_size = batch_size
        self._max_batch_words = max_batch_words
        self._max_sentence_words = max_sentence_words
        self._max_words = max_words
        self._lines_read = 0
        self._precision = prepare_model(model, precision)
        if entity_threshold is not None or relation_threshold is not None:
            model.set_thresholds(entity_threshold, relation_threshold)  # type: ignore[attr-defined]
        if entity_decoding is not None:
            model.entity_decoding = entity_decoding  # type: ignore[attr-defined]

    @property
    def model(self) -> Model:
        """The model predicted with; its `vocab` holds the entity and relation types."""
        return self._model

    # ------------------------------------------------------------------ input

    @cached_property
    def _nlp(self) -> Language:
        return blank_pipeline(self._language)

    def load_line(self, line: str) -> JsonDict:
        # `allennlp predict` hands us every non-blank line: count them to name bad ones.
        self._lines_read += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"input line {self._lines_read}: not valid JSON ({error.msg})") from None
        if isinstance(value, dict):
            value.setdefault("_line", self._lines_read)
        return value

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

    def _prepare(self, inputs: JsonDict, index: Optional[int] = None) -> List[Prepared]:
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

    @cached_property
    def _entity_types(self) -> List[str]:
        # The types a given entity may name: the model's, fixed once it is loaded.
        return LabelIndex(self.model.vocab).entity_types

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

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        prepared = self._prepare(json_dict)
        if len(prepared) != 1:
            raise InputError("a document has several sentences: use predict_json")
        sentence = prepared[0]
        return self._dataset_reader.text_to_instance(
            sentence.words, doc_id=sentence.doc_id, given_entities=sentence.entities
        )

    # ------------------------------------------------------------------ prediction

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        return self._predict_inputs([inputs], batch=False)[0]

    def predict_batch_json(self, inputs: List[JsonDict]) -> List[JsonDict]:
        """As `predict_json` for each input; an input's error names its index, `instances[i]` (0-based)."""
        return self._predict_inputs(inputs, batch=True)

    def _predict_inputs(self, inputs: List[JsonDict], batch: bool) -> List[JsonDict]:
        prepared = [self._prepare(item, index if batch else None) for index, item in enumerate(inputs)]
        total = sum(len(sentence.words) for sentences in prepared for sentence in sentences)
        if self._max_words is not None and total > self._max_words:
            raise InputTooLarge(
                f"the input has {total} words, over the limit of {self._max_words} words per request "
                "(max_words); split it into several requests"
            )
        flat = [sentence for sentences in prepared for sentence in sentences]
        given = [sentence.entities for sentence in flat]
        outputs = iter(self.predict_sentences([(s.words, s.doc_id) for s in flat], given))
        results = []
        for item, sentences in zip(inputs, prepared):
            sentence_results = [self._with_offsets(next(outputs), sentence.offsets) for sentence in sentences]
            if "document" in item:
                result: Dict[str, Any] = {"document": item["document"], "sentences": sentence_results}
                if item.get("orig_id") is not None:
                    result["orig_id"] = item["orig_id"]
                results.append(result)
            else:
                results.append(sentence_results[0])
        return results

    def predict_sentences(
        self,
        sentences: Sequence[Tuple[List[str], Optional[str]]],
        entities: Optional[Sequence[Optional[List[GivenEntity]]]] = None,
    ) -> List[JsonDict]:
        """
        Predicts `(words, doc_id)` sentences in batches bounded by `batch_size` and
        `max_batch_words`; results (SpERT JSON, as `predict_json` gives) in input order. The
        words are taken as they are: no size limit is checked. `entities`, parallel to
        `sentences`, gives a sentence's own entities (`(start, exclusive end, type or None)`),
        among which only relations are predicted; `None` (for all, or for one sentence) predicts
        the entities too. Given entities must be spans of their sentence's words with a type of the
        model or `None`; an `InputError` names the sentence (0-based) and the entity otherwise.
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
        # A batch holds either sentences with given entities or sentences without: the model reads
        # the given ones from a field the others do not have.
        by_length = sorted(range(len(sentences)), key=lambda i: len(sentences[i][0]))
        lengths = [len(words) for words, _ in sentences]
        results: List[Optional[JsonDict]] = [None] * len(sentences)
        for group in (False, True):
            order = [i for i in by_length if (entities[i] is not None) == group]
            for batch in self._batches(order, lengths):
                # Instances are built per batch: a long document's candidate spans never all exist at once.
                instances = [
                    self._dataset_reader.text_to_instance(
                        sentences[i][0], doc_id=sentences[i][1], given_entities=entities[i]
                    )
                    for i in batch
                ]
                for index, output in zip(batch, self.predict_batch_instance(instances)):
                    results[index] = output
        return results  # type: ignore[return-value]

    def _batches(self, order: List[int], lengths: List[int]) -> List[List[int]]:
        """Groups `order` into batches of at most `batch_size` sentences and `max_batch_words` padded words."""
        batches: List[List[int]] = []
        current: List[int] = []
        longest = 0
        for index in order:
            grown = max(longest, lengths[index])
            if current and (len(current) == self._batch_size or grown * (len(current) + 1) > self._max_batch_words):
                batches.append(current)
                current, grown = [], lengths[index]
            current.append(index)
            longest = grown
        if current:
            batches.append(current)
        return batches

    def predict_instance(self, instance: Instance) -> JsonDict:
        return self.predict_batch_instance([instance])[0]

    @cached_property
    def _progress(self) -> PredictionProgress:
        # A line every 30 s of prediction: `allennlp predict` on a large file is silent otherwise.
        return PredictionProgress()

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        # `allennlp predict --use-dataset-reader` batches instances itself (`--batch-size`).
        with self._precision.forward():
            outputs = self._model.forward_on_instances(instances)
        self._progress.add(len(instances), self._lines_read)
        return [self._to_spert_json(output) for output in outputs]

    @staticmethod
    def _to_spert_json(output: Dict[str, Any]) -> JsonDict:
        tokens = output["tokens"]
        entities = [
            {
                "type": e["type"],
                "start": e["start"],
                "end": e["end"],
                "score": e["score"],
                "text": " ".join(tokens[e["start"] : e["end"]]),
            }
            for e in output["entities"]
        ]
        result = {"tokens": tokens, "entities": entities, "relations": output["relations"]}
        if output.get("doc_id") is not None:
            result["orig_id"] = output["doc_id"]
        return sanitize(result)

    @staticmethod
    def _with_offsets(result: JsonDict, offsets: Optional[List[Tuple[int, int]]]) -> JsonDict:
        if offsets is not None:
            for entity in result["entities"]:
                entity["char_start"] = offsets[entity["start"]][0]
                entity["char_end"] = offsets[entity["end"] - 1][1]
        return result

    def dump_line(self, outputs: JsonDict) -> str:
        return json.dumps(outputs, ensure_ascii=False) + "\n"

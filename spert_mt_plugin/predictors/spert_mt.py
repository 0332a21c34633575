import json
from functools import cached_property
from typing import Any, Dict, List, Optional, Sequence, Tuple

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict, sanitize
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor

from spert_mt_plugin.dataset_readers.span_relation_reader import GivenEntity, SpanRelationReader
from spert_mt_plugin.inference.prediction_settings import (
    PredictionSettings,
    apply_prediction_settings,
    check_batch_limits,
)
from spert_mt_plugin.inference.progress import PredictionProgress
from spert_mt_plugin.predictors.prediction_input import InputError, InputTooLarge, PredictionInput

# The input errors, where users of the predictor have always found them.
__all__ = ["InputError", "InputTooLarge", "SpertMTPredictor"]


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
    precision, entity_threshold, relation_threshold, entity_decoding : optional (default = `None`)
        Replace the machine's default precision and the model's thresholds and decoding (`None`
        keeps each): see `inference.prediction_settings.PredictionSettings`. `allennlp predict
        --predictor-args '{"entity_threshold": 1.2}'`, `spert-serve --entity-threshold`, the spaCy
        component's config. The model is prepared in place.
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
        check_batch_limits(
            batch_size=batch_size, max_batch_words=max_batch_words, max_sentence_words=max_sentence_words
        )
        # `allennlp predict --use-dataset-reader` reads with this reader: unannotated files are
        # prediction input there.
        dataset_reader.require_annotation = False
        self._batch_size = batch_size
        self._max_batch_words = max_batch_words
        self._input = PredictionInput(model.vocab, language, max_words, max_sentence_words)
        settings = PredictionSettings(precision, entity_threshold, relation_threshold, entity_decoding)
        self._precision = apply_prediction_settings(model, settings)

    @property
    def model(self) -> Model:
        """The model predicted with; its `vocab` holds the entity and relation types."""
        return self._model

    # ------------------------------------------------------------------ input

    def load_line(self, line: str) -> JsonDict:
        # `allennlp predict` hands us every non-blank line: they are counted to name bad ones.
        return self._input.load_line(line)

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        prepared = self._input.sentences(json_dict)
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
        prepared = [self._input.sentences(item, index if batch else None) for index, item in enumerate(inputs)]
        self._input.check_request(prepared)
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
        entities = self._input.given_word_spans(sentences, entities)
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
        self._progress.add(len(instances), self._input.lines_read)
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

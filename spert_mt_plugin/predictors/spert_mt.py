import json
from typing import Any, Dict, List, Optional, Tuple

from allennlp.common.util import JsonDict, sanitize
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor

from spert_mt_plugin.dataset_readers.span_relation_reader import SpanRelationReader


class InputError(ValueError):
    """A prediction request that cannot be served; the message says why (HTTP 400)."""


# Each prepared sentence: (words, character offsets of the words or None, document id)
Prepared = Tuple[List[str], Optional[List[Tuple[int, int]]], Optional[str]]


@Predictor.register("spert_mt")
class SpertMTPredictor(Predictor):
    """
    Predicts entities and relations for one JSON object per input, in one of three forms:

    - `{"tokens": ["Ada", "works", ...]}`: one pre-tokenised sentence;
    - `{"sentence": "Ada works for Acme."}`: one sentence of raw text, tokenised by spaCy;
    - `{"document": "Several sentences. Of raw text."}`: split into sentences by spaCy's rule-based
      sentencizer, then each sentence as above.

    An optional `"orig_id"` is carried through. The output follows the SpERT JSON schema
    (`tokens`, `entities` with `start`/`end`/`type`, `relations` with `head`/`tail`/`type`, indices
    into `entities`) and adds `score` to both, `text` to entities and, for raw text, each entity's
    character offsets `char_start`/`char_end` into the input string. A document gives
    `{"document": ..., "sentences": [one such object per sentence]}`.

    Registered as a `Predictor` with name "spert_mt" (the model's default predictor).

    # Parameters

    language : `str`, optional (default = `"en"`)
        The spaCy language whose rule-based tokenizer and sentencizer handle raw text; no
        downloaded pipeline is needed.
    """

    def __init__(
        self, model: Model, dataset_reader: DatasetReader, frozen: bool = True, language: str = "en"
    ) -> None:
        super().__init__(model, dataset_reader, frozen)
        if not isinstance(dataset_reader, SpanRelationReader):
            raise InputError("SpertMTPredictor needs a spert-mt dataset reader (spert_json or dygie_jsonl)")
        self._language = language
        self._nlp = None
        self._lines_read = 0

    # ------------------------------------------------------------------ input

    def _spacy(self):
        if self._nlp is None:
            import spacy

            nlp = spacy.blank(self._language)
            nlp.add_pipe("sentencizer")
            self._nlp = nlp
        return self._nlp

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
        document = self._spacy()(text)
        groups = list(document.sents) if split_sentences else [document]
        prepared = []
        for group in groups:
            # Whitespace tokens (double spaces, newlines) are not words.
            words = [token for token in group if not token.is_space]
            if words:
                prepared.append(([t.text for t in words], [(t.idx, t.idx + len(t.text)) for t in words], None))
        return prepared

    def _prepare(self, inputs: JsonDict) -> List[Prepared]:
        """Validates one input object and turns it into sentences of words."""
        if not isinstance(inputs, dict):
            raise InputError(f"each input must be a JSON object, got {type(inputs).__name__}")
        where = f"input line {inputs['_line']}" if "_line" in inputs else "input"
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
            return [(list(value), None, doc_id)]
        if not isinstance(value, str):
            raise InputError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
        prepared = self._words_with_offsets(value, where, split_sentences=(key == "document"))
        if not prepared:
            raise InputError(f"{where}: the text has no words")
        return [(words, offsets, doc_id) for words, offsets, _ in prepared]

    def _json_to_instance(self, json_dict: JsonDict) -> Instance:
        prepared = self._prepare(json_dict)
        if len(prepared) != 1:
            raise InputError("a document has several sentences: use predict_json")
        words, _, doc_id = prepared[0]
        return self._dataset_reader.text_to_instance(words, doc_id=doc_id)

    # ------------------------------------------------------------------ prediction

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        return self.predict_batch_json([inputs])[0]

    def predict_batch_json(self, inputs: List[JsonDict]) -> List[JsonDict]:
        prepared = [self._prepare(item) for item in inputs]
        instances = [
            self._dataset_reader.text_to_instance(words, doc_id=doc_id)
            for sentences in prepared
            for words, _, doc_id in sentences
        ]
        outputs = iter(self.predict_batch_instance(instances))
        results = []
        for item, sentences in zip(inputs, prepared):
            sentence_results = [self._with_offsets(next(outputs), offsets) for _, offsets, _ in sentences]
            if "document" in item:
                result: Dict[str, Any] = {"document": item["document"], "sentences": sentence_results}
                if item.get("orig_id") is not None:
                    result["orig_id"] = item["orig_id"]
                results.append(result)
            else:
                results.append(sentence_results[0])
        return results

    def predict_instance(self, instance: Instance) -> JsonDict:
        return self.predict_batch_instance([instance])[0]

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        outputs = self._model.forward_on_instances(instances)
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

"""
The instance format shared by every spert-mt dataset reader.

Each reader only has to turn its files into `Sentence`s, which the `formats` package does;
validation (`formats.sentence`) and instance building happen here, once.
"""

import logging
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
from allennlp.data import DatasetReader, Instance, Token, TokenIndexer
from allennlp.data.fields import Field, MetadataField, TensorField, TextField

from spert_mt_plugin.dataset_readers.checked_label_fields import CheckedAdjacencyField, CheckedSequenceLabelField
from spert_mt_plugin.dataset_readers.span_iou import max_iou_with_gold
from spert_mt_plugin.dataset_readers.span_list_field import SpanListField
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Entity, Relation, Sentence, validate_sentence
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS

logger = logging.getLogger(__name__)


# A user's entity: (start, exclusive end, type or None for "the model's best type")
GivenEntity = Tuple[int, int, Optional[str]]


def candidate_spans(num_words: int, max_width: int) -> numpy.ndarray:
    """
    Every span of at most `max_width` words in a sentence of `num_words`, as `(start, inclusive
    end)` rows, by start and then by width: the order of AllenNLP's `enumerate_spans`, computed at
    once instead of span by span (a CoNLL04 sentence has about 200 of them).
    """
    starts = numpy.arange(num_words)[:, None]
    ends = starts + numpy.arange(min(max_width, num_words))[None, :]
    inside = ends < num_words
    return numpy.stack([numpy.broadcast_to(starts, ends.shape)[inside], ends[inside]], axis=1)


class SpanRelationReader(DatasetReader):
    """
    Base class of the spert-mt readers. Subclasses implement `_read_sentences`, yielding
    `(location, Sentence)` pairs (from the `formats` package) where `location` names the file and
    document for error messages; this class validates them and builds the instances.

    An instance has these fields:

    - `text`: the words, indexed into word pieces by the transformer indexer (which also records
      each word's word-piece offsets);
    - `spans`: every candidate span of 1 to `max_span_width` words (inclusive end indices);
    - `span_labels`: the gold entity type of each candidate span, `"NA"` for the others;
    - `span_max_iou`: each span's ENIoU, its largest IoU with a gold entity;
    - `entity_spans`: the gold entities (also those wider than `max_span_width`), possibly none;
    - `relations`: the gold relations, as a labelled adjacency matrix over `entity_spans`;
    - `metadata`: words, gold entities and relations as in the file, and the document id.

    Without annotation (prediction), only `text`, `spans` and `metadata` are built.

    # Parameters

    token_indexers : `Dict[str, TokenIndexer]`
        Must index words into word pieces with offsets: `spert_mt_mismatched` (or AllenNLP's
        `pretrained_transformer_mismatched`, which gives the same output more slowly).
    max_span_width : `int`, optional (default = `10`)
        The longest candidate span, in words (SPEC: L).
    types_file : `str`, optional (default = `None`)
        A SpERT types file. When given, every entity and relation type in the data must be listed
        in it. (Label ids and symmetric relation types come from the `spert_types` vocabulary.)
        Without it, labels are still checked against the vocabulary when instances are indexed:
        an unknown label is an error naming the file and document.
    require_annotation : `bool`, optional (default = `True`)
        A document without its annotation keys (`entities`/`relations`, DyGIE's `ner`/
        `relations`) is unannotated text, never "a sentence without entities". Training and
        evaluation need annotation, so such a document is an error naming file and document. The
        `spert_mt` predictor switches this off, so that `allennlp predict --use-dataset-reader`
        reads unannotated files (and predicts on annotated ones, scoring them against the gold).
    """

    def __init__(
        self,
        token_indexers: Dict[str, TokenIndexer],
        max_span_width: int = 10,
        types_file: Optional[str] = None,
        require_annotation: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if max_span_width < 1:
            raise DataError(f"max_span_width must be at least 1, got {max_span_width}")
        self._token_indexers = token_indexers
        self._max_span_width = max_span_width
        self._types_file = types_file
        self._types: Optional[EntityRelationTypes] = None
        self.require_annotation = require_annotation

    @property
    def types(self) -> Optional[EntityRelationTypes]:
        # Loaded on first use: a trained model's reader rebuilt for prediction on another machine
        # does not need the training data's types file (the vocabulary carries the types).
        if self._types is None and self._types_file:
            self._types = EntityRelationTypes.from_file(self._types_file)
        return self._types

    def _read_sentences(self, file_path: str) -> Iterable[Tuple[str, Sentence]]:
        raise NotImplementedError

    def _read(self, file_path: str) -> Iterable[Instance]:
        skipped_empty = 0
        too_wide = 0
        for location, sentence in self._read_sentences(file_path):
            self.validate(sentence, location)
            if not sentence.tokens:
                skipped_empty += 1
                continue
            if sentence.annotated:
                too_wide += sum(end - start > self._max_span_width for start, end, _ in sentence.entities)
            yield self.text_to_instance(
                sentence.tokens, sentence.entities, sentence.relations, sentence.doc_id, location
            )
        if skipped_empty:
            logger.warning("%s: skipped %d empty sentence(s)", file_path, skipped_empty)
        if too_wide:
            logger.warning(
                "%s: %d gold entities are wider than max_span_width=%d words; they are kept as gold "
                "(for relations and metrics) but cannot be predicted",
                file_path,
                too_wide,
                self._max_span_width,
            )

    def validate(self, sentence: Sentence, location: str) -> None:
        """Raises `DataError`, naming `location`, for an annotation that cannot be used."""
        # The types are only loaded for an annotated sentence: prediction input needs no types file.
        types = self.types if sentence.annotated else None
        validate_sentence(sentence, location, types, self.require_annotation)

    def text_to_instance(
        self,
        tokens: List[str],
        entities: Optional[Sequence[Entity]] = None,
        relations: Optional[Sequence[Relation]] = None,
        doc_id: Optional[str] = None,
        location: Optional[str] = None,
        given_entities: Optional[Sequence[GivenEntity]] = None,
    ) -> Instance:
        """
        # Parameters

        tokens : `List[str]`
            The words of one sentence.
        entities : `List[Tuple[int, int, str]]`, optional
            Gold entities as `(start, exclusive end, type)`. `None` when predicting.
        relations : `List[Tuple[int, int, str]]`, optional
            Gold relations as `(head entity index, tail entity index, type)`.
        doc_id : `str`, optional
            Carried into the metadata and the predictions.
        location : `str`, optional
            Where the sentence comes from (file and document), named by the error an unknown
            label raises when the instance is indexed.
        given_entities : `List[Tuple[int, int, Optional[str]]]`, optional
            The user's own entities as `(start, exclusive end, type or None)`: the model predicts
            the relations among exactly these (fields `given_spans`, `given_labels`). Not checked here: the
            predictor checks them first (`SpertMTPredictor.predict_sentences`, with
            `predictors.given_entities`: spans within the sentence, types of the model).
        """
        text = TextField([Token(t) for t in tokens], self._token_indexers)
        spans = candidate_spans(len(tokens), self._max_span_width)
        fields: Dict[str, Field] = {
            "text": text,
            "spans": SpanListField(spans, text),
        }
        metadata: Dict[str, Any] = {"tokens": list(tokens), "doc_id": doc_id}
        if given_entities is not None:
            given = [(int(start), int(end), label) for start, end, label in given_entities]
            fields["given_spans"] = SpanListField([(start, end - 1) for start, end, _ in given], text)
            # "NA" asks the model for its best type.
            fields["given_labels"] = CheckedSequenceLabelField(
                [label or NO_ENTITY for _, _, label in given], fields["given_spans"], label_namespace=ENTITY_LABELS
            )
        if entities is not None:
            entities = [(int(s), int(e), str(t)) for s, e, t in entities]
            relations = [(int(h), int(t), str(r)) for h, t, r in (relations or [])]
            metadata["entities"] = entities
            metadata["relations"] = relations
            gold_types = {(start, end - 1): label for start, end, label in entities}
            fields["span_labels"] = CheckedSequenceLabelField(
                [gold_types.get((start, end), NO_ENTITY) for start, end in spans.tolist()],
                fields["spans"],
                label_namespace=ENTITY_LABELS,
                location=location,
            )
            gold = numpy.array([[s, e - 1] for s, e, _ in entities], dtype=numpy.int64).reshape(-1, 2)
            fields["span_max_iou"] = TensorField(max_iou_with_gold(spans, gold))
            entity_spans = SpanListField([(s, e - 1) for s, e, _ in entities], text)
            fields["entity_spans"] = entity_spans
            # Duplicated relations (same head, tail and type) become one matrix cell.
            unique_relations = dict(((head, tail), label) for head, tail, label in relations)
            fields["relations"] = CheckedAdjacencyField(
                list(unique_relations),
                entity_spans,
                list(unique_relations.values()),
                label_namespace=RELATION_LABELS,
                padding_value=-1,
                location=location,
            )
        fields["metadata"] = MetadataField(metadata)
        return Instance(fields)

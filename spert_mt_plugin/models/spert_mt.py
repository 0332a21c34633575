"""
The SpERT.MT model: the steps from word pieces to entities and relations, each step a function or
module of its own (docs/equations.md maps the paper's equations to them).
"""

import logging
import os
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.distributed as dist
from allennlp.common.checks import ConfigurationError
from allennlp.common.util import is_distributed
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder, TokenEmbedder
from torch import Tensor, nn

from spert_mt_plugin.models.decoding import entity_dicts, relation_dicts
from spert_mt_plugin.models.extraction_metrics import ExtractionMetrics
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.modules.heads import HeadOutput, HeadSettings, entity_head, relation_head
from spert_mt_plugin.modules.losses import MultiTaskLoss, joint_loss, reduce_loss
from spert_mt_plugin.modules.range_max import RangeMaxTable
from spert_mt_plugin.modules.relation_representation import relation_input_dim, relation_representation
from spert_mt_plugin.modules.sampling import entity_candidates, ordered_pairs, pack_to_front, relation_candidates, take
from spert_mt_plugin.modules.sentence_encoding import encode_sentences
from spert_mt_plugin.modules.span_overlap import best_non_overlapping, has_nested, overlaps
from spert_mt_plugin.modules.span_representation import entity_input, span_representation

logger = logging.getLogger(__name__)


ENTITY_DECODINGS = ("auto", "flat", "nested")


class Entities(NamedTuple):
    """
    The entities of a batch, valid ones at the front of each row: spans `(batch, n, 2)`, c(s),
    the entity logits p(s) the relation head reads, class index, score and `valid` `(batch, n)`.
    """

    spans: Tensor
    vectors: Tensor
    type_scores: Tensor
    classes: Tensor
    scores: Tensor
    valid: Tensor


@Model.register("spert_mt")
class SpertMT(Model):
    """
    SpERT.MT: span-based joint entity and relation extraction with multi-task heads
    (identification + ranking classification), an IoU-scaled identification loss for entities and
    entity logits in the relation input (see SPEC.md). With `multitask`, `iou_scaled_identification`
    and `entity_logits` all off, it is SpERT: softmax entity and sigmoid relation classifiers.

    Registered as a `Model` with name "spert_mt". Instances come from the spert-mt readers.

    # Parameters

    vocab : `Vocabulary`
        The `entity_labels` (with `"NA"`), `relation_labels` and symmetric relation namespaces
        (the `spert_types` vocabulary).
    embedder : `PretrainedTransformerEmbedder`
        The word-piece encoder (`"type": "pretrained_transformer"`); set `max_length` to fold
        sentences longer than the encoder's limit.
    max_span_width : `int`, optional (default = `10`)
        Longest candidate span (the reader's value) and number of width embeddings.
    width_embedding_dim : `int`, optional (default = `25`)
        d2; the width embedding starts at N(0, `head.init_std`).
    head : `HeadSettings`, optional
        Initialisation scale of the heads and the width embedding, and the class scores' bias.
    dropout : `float`, optional (default = `0.1`)
        Dropout on the inputs of the heads.
    multitask : `bool`, optional (default = `True`)
        Multi-task heads with the ranking loss; `False` is the `-MTL` ablation: SpERT's heads
        (`SoftmaxHead` for entities, `SigmoidHead` for relations).
    iou_scaled_identification : `bool`, optional (default = `True`)
        IoU-scaled entity identification loss; `False` is `-EIL` (plain BCE). Needs `multitask`.
    entity_logits : `bool`, optional (default = `True`)
        Feed the entity class scores of both arguments to the relation head.
    entity_loss, relation_loss : `MultiTaskLoss`, optional
        alpha, beta, margins, gamma (and delta for entities).
    negative_entities, negative_relations : `int`, optional (default = `120`)
        Most negative spans / pairs per sentence in the loss, re-sampled at every forward pass.
    entity_threshold, relation_threshold : `float`, optional (default = `0.85`)
        theta of the multi-task heads (eq. 18).
    relation_probability_threshold : `float`, optional (default = `0.4`)
        The sigmoid relation head's threshold (SpERT's `rel_filter_threshold`).
    sigmoid_loss_over_types : `str`, optional (default = `"mean"`)
        How the sigmoid relation head combines its per-type cross-entropies: `"mean"` or `"sum"`.
    loss_reduction : `str`, optional (default = `"mean"`)
        `"mean"` or `"sum"` over the candidates of the batch: the SpERT.MT configs sum (the paper's
        equations; it trains far better, see docs/head_tuning.md), the SpERT configs average.
    pair_chunk_size : `int`, optional (default = `4096`)
        Relation candidates are scored this many at a time.
    per_type_metrics : `bool`, optional (default = `False`)
        Also report P/R/F1 of every entity and relation type.
    entity_decoding : `str`, optional (default = `"auto"`)
        `"flat"`: predictions keep the best-scoring entities that share no word and no relation
        joins two overlapping spans (`modules.span_overlap`); `"nested"`: every span the entity
        head accepts is an entity, overlapping or not; `"auto"`: flat unless the training data had
        nested (overlapping) entities, which the model records while it trains (archives made
        before it did decode flat under `"auto"`).

    Predictions carry a `score`: the margin score of the chosen class for the multi-task heads,
    a probability for SpERT's heads (see `spert_mt_plugin.models.decoding`).
    """

    def __init__(
        self,
        vocab: Vocabulary,
        embedder: TokenEmbedder,
        max_span_width: int = 10,
        width_embedding_dim: int = 25,
        head: Optional[HeadSettings] = None,
        dropout: float = 0.1,
        multitask: bool = True,
        iou_scaled_identification: bool = True,
        entity_logits: bool = True,
        entity_loss: Optional[MultiTaskLoss] = None,
        relation_loss: Optional[MultiTaskLoss] = None,
        negative_entities: int = 120,
        negative_relations: int = 120,
        entity_threshold: float = 0.85,
        relation_threshold: float = 0.85,
        relation_probability_threshold: float = 0.4,
        sigmoid_loss_over_types: str = "mean",
        loss_reduction: str = "mean",
        pair_chunk_size: int = 4096,
        per_type_metrics: bool = False,
        entity_decoding: str = "auto",
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        for name, value in (("loss_reduction", loss_reduction), ("sigmoid_loss_over_types", sigmoid_loss_over_types)):
            if value not in ("mean", "sum"):
                raise ConfigurationError(f"{name} must be 'mean' or 'sum', got {value!r}")
        # Out of range, these fail deep inside torch (an empty embedding, torch.split by 0) or
        # silently train on nothing (a negative sample count keeps no negative).
        for name, value, least in (
            ("max_span_width", max_span_width, 1),
            ("width_embedding_dim", width_embedding_dim, 1),
            ("pair_chunk_size", pair_chunk_size, 1),
            ("negative_entities", negative_entities, 0),
            ("negative_relations", negative_relations, 0),
        ):
            if value < least:
                raise ConfigurationError(f"{name} must be at least {least}, got {value}")
        if not 0 <= dropout < 1:
            raise ConfigurationError(f"dropout must be in [0, 1), got {dropout}")
        if not isinstance(embedder, PretrainedTransformerEmbedder):
            raise ConfigurationError(
                "SpertMT needs a word-piece encoder: use an embedder of type 'pretrained_transformer', "
                f"got {type(embedder).__name__}"
            )
        self._embedder = embedder
        # Which encoder SPERT_ENCODER (auto: the paper's if cached, else the bundled one) picked.
        encoder = getattr(embedder.transformer_model.config, "name_or_path", "?")
        logger.info("SpertMT encoder: %s (SPERT_ENCODER=%s)", encoder, os.environ.get("SPERT_ENCODER", "unset"))
        self._labels = LabelIndex(vocab)
        self._entity_logits = entity_logits
        self._negative_entities = negative_entities
        self._negative_relations = negative_relations
        self._loss_reduction = loss_reduction
        self._pair_chunk_size = pair_chunk_size

        # Created in this order, which the random initialisation depends on.
        head = head or HeadSettings()
        self._width_embedding = nn.Embedding(max_span_width, width_embedding_dim)
        nn.init.normal_(self._width_embedding.weight, std=head.init_std)
        self._dropout = nn.Dropout(dropout)
        hidden, num_entity_types = embedder.get_output_dim(), len(self._labels.entity_types)
        x_dim = 2 * hidden + width_embedding_dim  # x(s), eq. 3
        entity_loss, relation_loss = entity_loss or MultiTaskLoss(), relation_loss or MultiTaskLoss()
        self._entity_head = entity_head(
            multitask, x_dim, num_entity_types, head, entity_loss, entity_threshold, iou_scaled_identification
        )
        self._relation_head = relation_head(
            multitask,
            relation_input_dim(hidden, width_embedding_dim, num_entity_types, entity_logits),
            len(self._labels.relation_types),
            head,
            relation_loss,
            relation_threshold,
            relation_probability_threshold,
            sigmoid_loss_over_types,
        )
        self._metrics = ExtractionMetrics(self._labels.symmetric, per_type_metrics)
        self.entity_decoding = entity_decoding
        # Saved with the weights, so that "auto" decoding follows the data the model was trained on.
        self.register_buffer("trained_on_nested_entities", torch.zeros((), dtype=torch.bool))
        # Whether this process's own training batches held nested entities. Not a buffer:
        # distributed training overwrites buffers with the primary worker's at every forward pass.
        self._saw_nested_entities = False
        # False once weights saved before the buffer existed are loaded: such a model was evaluated
        # with nested decoding, which `results.predictions` repeats so that kept predictions match
        # the run's metrics.
        self.records_nesting = True
        self.register_load_state_dict_pre_hook(self._note_nesting_record)

    # Archives saved before the buffer existed load without it: their "auto" decoding is flat.
    authorized_missing_keys = [r"^trained_on_nested_entities$"]

    def forward(  # type: ignore
        self,
        text: TextFieldTensors,
        spans: Tensor,
        metadata: List[Dict[str, Any]],
        span_labels: Optional[Tensor] = None,
        span_max_iou: Optional[Tensor] = None,
        entity_spans: Optional[Tensor] = None,
        relations: Optional[Tensor] = None,
        given_spans: Optional[Tensor] = None,
        given_labels: Optional[Tensor] = None,
    ) -> Dict[str, Any]:
        """
        # Parameters

        text : `TextFieldTensors`
            From the `pretrained_transformer_mismatched` indexer: word pieces and word offsets.
        spans : `Tensor`, `(batch, num_spans, 2)`
            Candidate spans, inclusive word indices, `-1` padding.
        metadata : `List[Dict[str, Any]]`
            Words, gold entities and relations (for the metrics) and the document id.
        span_labels, span_max_iou : `Tensor`, optional, `(batch, num_spans)`
            Entity label id (`"NA"` for non-entities) and ENIoU of each candidate.
        entity_spans, relations : `Tensor`, optional
            The gold entities (`(batch, num_entities, 2)`), which the training relation candidates
            pair, and the relation label id of each ordered pair of them (`-1` for none).
        given_spans : `Tensor`, optional, `(batch, num_given, 2)`
            The user's entities (inclusive word indices, `-1` padding): the prediction keeps
            exactly these as entities and predicts the relations among them.
        given_labels : `Tensor`, optional, `(batch, num_given)`
            The entity label id of each given entity: its type where the user gave one, `"NA"`
            where the model's best type is wanted.

        # Returns

        `loss` when labels are given, and per sentence `entities` (`start`, exclusive `end`,
        `type`, `score`) and `relations` (`head`, `tail` indexing `entities`, `type`, `score`)
        unless training.
        """
        table, cls = encode_sentences(self._embedder, text["tokens"])
        span_mask = spans[..., 0] >= 0
        if self.training and entity_spans is not None and not self._saw_nested_entities:
            self._saw_nested_entities = has_nested(entity_spans)
            if self._saw_nested_entities:
                self.trained_on_nested_entities.fill_(True)
        if self.training and span_labels is not None:
            loss = self._training_loss(table, cls, spans, span_mask, span_labels, span_max_iou, entity_spans, relations)
            return {"loss": loss}

        span_vectors = span_representation(table, spans, self._width_embedding)
        entity_output = self._classify_entities(span_vectors, cls)
        output: Dict[str, Any] = {}
        if span_labels is not None:
            output["loss"] = self._validation_loss(
                table, cls, span_mask, entity_output, span_labels, span_max_iou, entity_spans, relations
            )
        if given_spans is None:
            entities = self._predicted_entities(spans, span_mask, span_vectors, entity_output)
        else:
            entities = self._given_entities(table, cls, given_spans, given_labels)
        output["entities"], output["relations"] = self._decode(table, entities)
        output["tokens"] = [m["tokens"] for m in metadata]
        output["doc_id"] = [m.get("doc_id") for m in metadata]
        if all("entities" in m for m in metadata):
            self._metrics(output["entities"], output["relations"], metadata)
        return output

    def _classify_entities(self, span_vectors: Tensor, cls: Tensor) -> HeadOutput:
        return self._entity_head(self._dropout(entity_input(span_vectors, cls)))

    def _classify_pairs(
        self, table: RangeMaxTable, spans: Tensor, vectors: Tensor, type_scores: Tensor, pairs: Tensor
    ) -> HeadOutput:
        """The relation head's output for `pairs` (sentence, head, tail) of `spans`, given their c(s) and p(s)."""
        type_scores = type_scores if self._entity_logits else None
        outputs = []
        # Chunks bound the memory of sentences with many entities.
        for chunk in pairs.split(self._pair_chunk_size):
            inputs = relation_representation(table, spans, vectors, type_scores, chunk)
            outputs.append(self._relation_head(self._dropout(inputs)))
        return HeadOutput.cat(outputs)

    def _training_loss(
        self,
        table: RangeMaxTable,
        cls: Tensor,
        spans: Tensor,
        span_mask: Tensor,
        span_labels: Tensor,
        span_max_iou: Optional[Tensor],
        entity_spans: Optional[Tensor],
        relations: Optional[Tensor],
    ) -> Tensor:
        """
        L = L1 + L2 (eq. 17) over sampled candidates. Only what enters the loss is scored, as in
        SpERT: the positive and sampled negative spans, packed to the front of each row, and the
        gold entities (the relation candidates), in one pass through the entity head.
        """
        classes = self._labels.entity_classes(span_labels, span_mask)
        index, chosen = pack_to_front(entity_candidates(classes, span_mask, self._negative_entities))
        count = index.size(1)
        with_relations = entity_spans is not None and relations is not None
        all_spans = torch.cat([take(spans, index), entity_spans], dim=1) if with_relations else take(spans, index)
        span_vectors = span_representation(table, all_spans, self._width_embedding)
        output = self._classify_entities(span_vectors, cls)
        chosen_classes = take(classes, index).masked_fill(~chosen, -1)
        chosen_iou = take(span_max_iou, index) if span_max_iou is not None else None
        loss = self._reduce(self._entity_head.loss(output.first(count), chosen_classes, chosen_iou), chosen)
        if with_relations:
            gold_scores = self._entity_head.type_scores(output)[:, count:]
            relation_loss = self._relation_loss(
                table, entity_spans, relations, span_vectors[:, count:], gold_scores, self._negative_relations
            )
            loss = joint_loss(loss, relation_loss)
        return loss

    def _validation_loss(
        self,
        table: RangeMaxTable,
        cls: Tensor,
        span_mask: Tensor,
        entity_output: HeadOutput,
        span_labels: Tensor,
        span_max_iou: Optional[Tensor],
        entity_spans: Optional[Tensor],
        relations: Optional[Tensor],
    ) -> Tensor:
        """
        L = L1 + L2 (eq. 17) over every candidate span and every pair of gold entities, without
        sampling, so that the validation loss is the same at each evaluation.
        """
        classes = self._labels.entity_classes(span_labels, span_mask)
        loss = self._reduce(self._entity_head.loss(entity_output, classes, span_max_iou), span_mask)
        if entity_spans is not None and relations is not None:
            gold_vectors = span_representation(table, entity_spans, self._width_embedding)
            gold_scores = self._entity_head.type_scores(self._classify_entities(gold_vectors, cls))
            relation_loss = self._relation_loss(table, entity_spans, relations, gold_vectors, gold_scores)
            loss = joint_loss(loss, relation_loss)
        return loss

    def _reduce(self, losses: Tensor, selected: Tensor) -> Tensor:
        """The sums of eq. 5 and 9 (or means) over the `selected` candidates."""
        return reduce_loss(losses, selected, self._loss_reduction)

    def _relation_loss(
        self,
        table: RangeMaxTable,
        entity_spans: Tensor,
        relations: Tensor,
        span_vectors: Tensor,
        type_scores: Tensor,
        negatives: Optional[int] = None,
    ) -> Tensor:
        """L2 over pairs of gold entities, at most `negatives` sampled negatives per sentence (`None`: all)."""
        labels, selected = relation_candidates(relations, entity_spans, self._labels.symmetric_class, negatives)
        pairs = selected.nonzero()
        if pairs.size(0) == 0:
            return span_vectors.new_zeros(())
        output = self._classify_pairs(table, entity_spans, span_vectors, type_scores, pairs)
        losses = self._relation_head.loss(output, labels[pairs[:, 0], pairs[:, 1], pairs[:, 2]])
        return self._reduce(losses, torch.ones_like(losses))

    def _note_nesting_record(self, module: nn.Module, state_dict: Dict[str, Tensor], prefix: str, *args) -> None:
        self.records_nesting = prefix + "trained_on_nested_entities" in state_dict

    @property
    def embedder(self) -> PretrainedTransformerEmbedder:
        """The sentence encoder (word pieces → vectors)."""
        return self._embedder

    @property
    def entity_head(self) -> nn.Module:
        """The entity head (`modules.heads`): its forward, type scores, loss and decisions."""
        return self._entity_head

    @property
    def relation_head(self) -> nn.Module:
        """The relation head (`modules.heads`)."""
        return self._relation_head

    @property
    def labels(self) -> LabelIndex:
        """The entity and relation types of the vocabulary, in the heads' class order."""
        return self._labels

    @property
    def entity_decoding(self) -> str:
        """`"auto"`, `"flat"` or `"nested"` (the parameter); settable, for the next forward passes."""
        return self._entity_decoding

    @entity_decoding.setter
    def entity_decoding(self, value: str) -> None:
        if value not in ENTITY_DECODINGS:
            raise ConfigurationError(f"entity_decoding must be one of {', '.join(ENTITY_DECODINGS)}, got {value!r}")
        self._entity_decoding = value

    def _flat(self) -> bool:
        """Whether predictions keep no overlapping entities (`entity_decoding`)."""
        if self._entity_decoding == "auto":
            return not bool(self.trained_on_nested_entities)
        return self._entity_decoding == "flat"

    def _predicted_entities(
        self, spans: Tensor, span_mask: Tensor, span_vectors: Tensor, entity_output: HeadOutput
    ) -> Entities:
        """The candidate spans the entity head accepts (eq. 18), without overlaps when decoding flat."""
        entity_class, entity_score = self._entity_head.decide(entity_output)
        index, is_entity = pack_to_front(span_mask & (entity_class >= 0))
        if self._flat():
            kept = best_non_overlapping(take(spans, index), take(entity_score, index), is_entity)
            repacked, is_entity = pack_to_front(kept)
            index = index.gather(1, repacked)
        return Entities(
            take(spans, index),
            take(span_vectors, index),
            take(self._entity_head.type_scores(entity_output), index),
            take(entity_class, index),
            take(entity_score, index),
            is_entity,
        )

    def _given_entities(self, table: RangeMaxTable, cls: Tensor, given_spans: Tensor, given_labels: Tensor) -> Entities:
        """
        The user's entities with the model's own view of them: c(s), the entity logits p(s) the
        relation head reads, and the score of their type (the given one, else the best).
        """
        span_vectors = span_representation(table, given_spans, self._width_embedding)
        output = self._classify_entities(span_vectors, cls)
        class_scores = self._entity_head.class_scores(output)
        given_class = self._labels.entity_classes(given_labels, given_spans[..., 0] >= 0)
        entity_class = torch.where(given_class >= 0, given_class, class_scores.argmax(dim=-1))
        entity_score = class_scores.gather(-1, entity_class.unsqueeze(-1)).squeeze(-1)
        return Entities(
            given_spans,
            span_vectors,
            self._entity_head.type_scores(output),
            entity_class,
            entity_score,
            given_spans[..., 0] >= 0,
        )

    def _decode(
        self, table: RangeMaxTable, entities: Entities
    ) -> Tuple[List[List[Dict[str, Any]]], List[List[Dict[str, Any]]]]:
        """The entities as dictionaries, and the relations predicted between them."""
        pairs = ordered_pairs(entities.valid)
        if self._flat():
            # Given entities may overlap; a flat model never relates two overlapping spans.
            pairs = pairs & ~overlaps(entities.spans)
        pairs = pairs.nonzero()
        relation_class = relation_score = pairs.new_zeros((0,))
        if pairs.size(0) > 0:
            relation_output = self._classify_pairs(table, entities.spans, entities.vectors, entities.type_scores, pairs)
            kept, relation_class, relation_score = self._relation_head.decisions(relation_output)
            pairs = pairs[kept]
        # From here on only the predicted items remain: plain Python lists are cheap.
        labels = self._labels
        entity_lists = [t.tolist() for t in (entities.spans, entities.classes, entities.scores)]
        entity_output = entity_dicts(*entity_lists, entities.valid.sum(dim=1).tolist(), labels.entity_types)
        relation_lists = [t.tolist() for t in (pairs, relation_class, relation_score)]
        relations = relation_dicts(*relation_lists, len(entity_output), labels.relation_types, labels.symmetric)
        return entity_output, relations

    def set_thresholds(self, entity: Optional[float] = None, relation: Optional[float] = None) -> None:
        """
        Sets the least score an entity / a relation needs (`None` leaves it as it is), from the
        next forward pass on; the weights and the loss do not depend on it. The scale is the
        head's: a margin score for the multi-task heads (theta, `entity_threshold` /
        `relation_threshold`), a probability for SpERT's (the softmax entity head's least
        probability, 0 by default; the sigmoid relation head's `relation_probability_threshold`).
        `allennlp spert-thresholds` shows what each value gives on a labelled file.
        """
        for head, value in ((self._entity_head, entity), (self._relation_head, relation)):
            if value is not None:
                head.threshold = float(value)

    @property
    def thresholds(self) -> Dict[str, float]:
        """The thresholds in use: `{"entity": ..., "relation": ...}` (see `set_thresholds`)."""
        return {"entity": self._entity_head.threshold, "relation": self._relation_head.threshold}

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        if self.training:
            # The trainer asks every worker for the epoch's metrics at the same point.
            if reset:
                self._agree_on_nesting()
            # Predictions are decoded only in evaluation: during training there is nothing to report.
            return {}
        return self._metrics.get_metric(reset)

    def _agree_on_nesting(self) -> None:
        """
        Distributed training, at the end of each training epoch: each worker read a share of the
        sentences, so the model was trained on nested entities if any worker saw some. Without
        this, the primary worker's share alone decided (and was saved).
        """
        if not is_distributed():
            return
        seen = torch.tensor(
            int(self._saw_nested_entities or bool(self.trained_on_nested_entities)),
            device=self.trained_on_nested_entities.device,
        )
        dist.all_reduce(seen, op=dist.ReduceOp.MAX)
        self.trained_on_nested_entities.fill_(bool(seen.item()))

    default_predictor = "spert_mt"

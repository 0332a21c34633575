"""
The SpERT.MT model: the steps from word pieces to entities and relations, each step a function or
module of its own (docs/equations.md maps the paper's equations to them).
"""

import logging
import os
from typing import Any, Dict, List, Optional

import torch
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder, TokenEmbedder
from torch import Tensor, nn

from spert_mt_plugin.models.candidate_scoring import CandidateScorer
from spert_mt_plugin.models.decoding import decode
from spert_mt_plugin.models.entities import Entities, given_entities, predicted_entities  # noqa: F401 (public)
from spert_mt_plugin.models.entity_nesting import (  # noqa: F401 (ENTITY_DECODINGS: public here too)
    ENTITY_DECODINGS,
    NESTING_BUFFER,
    NestingRecord,
    checked_entity_decoding,
    decodes_flat,
)
from spert_mt_plugin.models.extraction_loss import ExtractionLoss
from spert_mt_plugin.models.extraction_metrics import ExtractionMetrics
from spert_mt_plugin.models.label_index import LabelIndex
from spert_mt_plugin.models.model_settings import check_model_settings
from spert_mt_plugin.modules.heads import HeadSettings, entity_head, relation_head
from spert_mt_plugin.modules.losses import MultiTaskLoss
from spert_mt_plugin.modules.relation_representation import relation_input_dim
from spert_mt_plugin.modules.sentence_encoding import encode_sentences

logger = logging.getLogger(__name__)


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
        `"flat"` (no two entities share a word), `"nested"` or `"auto"` (flat unless the training
        data had nested entities), see `models.entity_nesting`.

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
        check_model_settings(
            embedder,
            max_span_width,
            width_embedding_dim,
            dropout,
            negative_entities,
            negative_relations,
            sigmoid_loss_over_types,
            loss_reduction,
            pair_chunk_size,
        )
        self._embedder = embedder
        # Which encoder SPERT_ENCODER (auto: the paper's if cached, else the bundled one) picked.
        encoder = getattr(embedder.transformer_model.config, "name_or_path", "?")
        logger.info("SpertMT encoder: %s (SPERT_ENCODER=%s)", encoder, os.environ.get("SPERT_ENCODER", "unset"))
        self._labels = LabelIndex(vocab)
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
        self._scorer = CandidateScorer(
            self._width_embedding, self._dropout, self._entity_head, self._relation_head, entity_logits, pair_chunk_size
        )
        self._loss = ExtractionLoss(self._scorer, self._labels, negative_entities, negative_relations, loss_reduction)
        self._metrics = ExtractionMetrics(self._labels.symmetric, per_type_metrics)
        self.entity_decoding = entity_decoding
        # Saved with the weights, so that "auto" decoding follows the data the model was trained on.
        self.register_buffer(NESTING_BUFFER, torch.zeros((), dtype=torch.bool))
        self._nesting = NestingRecord()
        self.register_load_state_dict_pre_hook(self._nesting.note_loaded_weights)

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
            From the `spert_mt_mismatched` indexer: word pieces and word offsets.
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
        if self.training and entity_spans is not None:
            self._nesting.note_training_batch(entity_spans, self.trained_on_nested_entities)
        if self.training and span_labels is not None:
            loss = self._loss.training(table, cls, spans, span_mask, span_labels, span_max_iou, entity_spans, relations)
            return {"loss": loss}

        span_vectors = self._scorer.span_vectors(table, spans)
        entity_output = self._scorer.entities(span_vectors, cls)
        output: Dict[str, Any] = {}
        if span_labels is not None:
            output["loss"] = self._loss.validation(
                table, cls, span_mask, entity_output, span_labels, span_max_iou, entity_spans, relations
            )
        flat = decodes_flat(self._entity_decoding, self.trained_on_nested_entities)
        if given_spans is None:
            entities = predicted_entities(self._entity_head, spans, span_mask, span_vectors, entity_output, flat)
        else:
            entities = given_entities(self._scorer, self._labels, table, cls, given_spans, given_labels)
        output["entities"], output["relations"] = decode(self._scorer, self._labels, table, entities, flat)
        output["tokens"] = [m["tokens"] for m in metadata]
        output["doc_id"] = [m.get("doc_id") for m in metadata]
        if all("entities" in m for m in metadata):
            self._metrics(output["entities"], output["relations"], metadata)
        return output

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
        self._entity_decoding = checked_entity_decoding(value)

    @property
    def records_nesting(self) -> bool:
        """False for weights saved before the nesting record existed (`models.entity_nesting`)."""
        return self._nesting.in_weights

    def set_thresholds(self, entity: Optional[float] = None, relation: Optional[float] = None) -> None:
        """
        Sets the least score an entity / a relation needs (`None` keeps it) from the next forward
        pass on; weights and loss do not depend on it. The scale is the head's: a margin score for
        the multi-task heads (theta, `entity_threshold` / `relation_threshold`), a probability for
        SpERT's (the softmax entity head's least probability, 0 by default; the sigmoid relation
        head's `relation_probability_threshold`). `allennlp spert-thresholds` shows their effect.
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
                self._nesting.agree(self.trained_on_nested_entities)
            # Predictions are decoded only in evaluation: during training there is nothing to report.
            return {}
        return self._metrics.get_metric(reset)

    default_predictor = "spert_mt"

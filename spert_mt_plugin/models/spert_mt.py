import logging
import os
from typing import Any, Dict, List, Optional, Tuple

import torch
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder, TokenEmbedder
from torch import nn

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.metrics import NerF1, RelationF1
from spert_mt_plugin.models.decoding import (
    entity_dicts,
    ranking_decision,
    relation_dicts,
    sigmoid_decisions,
    softmax_decision,
)
from spert_mt_plugin.modules.losses import (
    MultiTaskLoss,
    binary_cross_entropy,
    iou_scaled_bce,
    reduce_loss,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
)
from spert_mt_plugin.modules.multitask_head import HeadSettings, MultiTaskHead, SigmoidHead, SoftmaxHead
from spert_mt_plugin.modules.range_max import RangeMaxTable, max_pool_words
from spert_mt_plugin.vocabulary import symmetric_relations

logger = logging.getLogger(__name__)


def sample_up_to(candidates: torch.Tensor, limit: int) -> torch.Tensor:
    """
    Keeps at most `limit` of the `True` entries of each row of `candidates` (shape
    `(batch, n)`), chosen uniformly at random with torch's global generator (seeded by AllenNLP),
    so every epoch draws a new sample.
    """
    keys = torch.rand(candidates.shape, device=candidates.device).masked_fill(~candidates, 2.0)
    ranks = keys.argsort(dim=1).argsort(dim=1)
    return candidates & (ranks < limit)


@Model.register("spert_mt")
class SpertMT(Model):
    """
    SpERT.MT: span-based joint entity and relation extraction with multi-task heads
    (identification + ranking classification), an IoU-scaled identification loss for entities and
    entity logits in the relation input (see SPEC.md). With `multitask`,
    `iou_scaled_identification` and `entity_logits` all off, it is SpERT: a softmax entity
    classifier and a sigmoid (multi-label) relation classifier.

    Registered as a `Model` with name "spert_mt". Instances come from the spert-mt readers.

    # Parameters

    vocab : `Vocabulary`
        Needs the `entity_labels` (with `"NA"`) and `relation_labels` namespaces; the
        `spert_types` vocabulary also supplies the symmetric relation types.
    embedder : `PretrainedTransformerEmbedder`
        The word-piece encoder (`"type": "pretrained_transformer"`); set `max_length` to fold
        sentences longer than the encoder's limit.
    max_span_width : `int`, optional (default = `10`)
        Longest candidate span (the reader's value); also the number of width embeddings (wider
        gold entities share the last one).
    width_embedding_dim : `int`, optional (default = `25`)
        d2; the width embedding starts at N(0, `head.init_std`).
    head : `HeadSettings`, optional
        Initialisation scale of the heads and the width embedding (`init_std`, 0.02) and whether
        the multi-task class scores have a bias (`class_bias`, off).
    dropout : `float`, optional (default = `0.1`)
        Dropout on the inputs of the heads.
    multitask : `bool`, optional (default = `True`)
        Multi-task heads with the ranking loss; `False` is the `-MTL` ablation: SpERT's heads,
        softmax + "no entity" for entities, one sigmoid per type for relations.
    iou_scaled_identification : `bool`, optional (default = `True`)
        IoU-scaled entity identification loss; `False` is `-EIL` (plain BCE). Has no effect
        without `multitask` (there is no identification head).
    entity_logits : `bool`, optional (default = `True`)
        Feed the entity class scores of both arguments to the relation head.
    entity_loss, relation_loss : `MultiTaskLoss`, optional
        alpha, beta, margins, gamma (and delta for entities).
    negative_entities, negative_relations : `int`, optional (default = `120`)
        Most negative spans / pairs per sentence in the loss, re-sampled at every forward pass.
    entity_threshold, relation_threshold : `float`, optional (default = `0.85`)
        theta of the multi-task heads: a candidate takes its best class when that class's score
        reaches theta.
    relation_probability_threshold : `float`, optional (default = `0.4`)
        The sigmoid relation head's threshold (SpERT's `rel_filter_threshold`): a pair takes every
        type whose probability reaches it.
    sigmoid_loss_over_types : `str`, optional (default = `"mean"`)
        How the sigmoid relation head's per-type binary cross-entropies are combined: `"mean"` as
        SpERT's code does, or `"sum"`.
    loss_reduction : `str`, optional (default = `"mean"`)
        `"mean"` or `"sum"` over the candidates of the batch. The shipped SpERT.MT configs use
        `"sum"` (the paper's equations; it trains far better, see docs/head_tuning.md), the SpERT
        baseline configs SpERT's `"mean"`.
    pair_chunk_size : `int`, optional (default = `4096`)
        Relation candidates are scored this many at a time, which bounds memory on sentences with
        many entities.
    per_type_metrics : `bool`, optional (default = `False`)
        Also report P/R/F1 of every entity and relation type.

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
        **kwargs,
    ) -> None:
        super().__init__(vocab, **kwargs)
        if loss_reduction not in ("mean", "sum"):
            raise ValueError(f"loss_reduction must be 'mean' or 'sum', got {loss_reduction!r}")
        if sigmoid_loss_over_types not in ("mean", "sum"):
            raise ValueError(f"sigmoid_loss_over_types must be 'mean' or 'sum', got {sigmoid_loss_over_types!r}")
        if iou_scaled_identification and not multitask:
            logger.warning(
                "iou_scaled_identification has no effect without multitask: SpERT's heads have no "
                "identification output"
            )
        if not isinstance(embedder, PretrainedTransformerEmbedder):
            raise ValueError(
                "SpertMT needs a word-piece encoder: use an embedder of type 'pretrained_transformer', "
                f"got {type(embedder).__name__}"
            )
        self._embedder = embedder
        # Which encoder SPERT_ENCODER (auto: the paper's if cached, else the bundled one) picked.
        logger.info(
            "SpertMT encoder: %s (SPERT_ENCODER=%s)",
            getattr(embedder.transformer_model.config, "name_or_path", "?"),
            os.environ.get("SPERT_ENCODER", "unset"),
        )
        self._max_span_width = max_span_width
        self._multitask = multitask
        self._iou_scaled = iou_scaled_identification
        self._entity_logits = entity_logits
        self._entity_loss = entity_loss or MultiTaskLoss()
        self._relation_loss = relation_loss or MultiTaskLoss()
        self._negative_entities = negative_entities
        self._negative_relations = negative_relations
        self._entity_threshold = entity_threshold
        self._relation_threshold = relation_threshold
        self._relation_probability_threshold = relation_probability_threshold
        self._sigmoid_loss_over_types = sigmoid_loss_over_types
        self._loss_reduction = loss_reduction
        self._pair_chunk_size = pair_chunk_size

        # Entity classes are the entity label ids without "NA", in vocabulary order.
        entity_vocab = vocab.get_index_to_token_vocabulary(ENTITY_LABELS)
        if NO_ENTITY not in entity_vocab.values():
            raise ValueError(f"The '{ENTITY_LABELS}' namespace must contain {NO_ENTITY!r}")
        self._entity_types = [entity_vocab[i] for i in sorted(entity_vocab) if entity_vocab[i] != NO_ENTITY]
        vocab_to_class = torch.full((len(entity_vocab),), -1, dtype=torch.long)
        for class_index, label in enumerate(self._entity_types):
            vocab_to_class[vocab.get_token_index(label, ENTITY_LABELS)] = class_index
        self.register_buffer("_entity_vocab_to_class", vocab_to_class, persistent=False)
        relation_vocab = vocab.get_index_to_token_vocabulary(RELATION_LABELS)
        self._relation_types = [relation_vocab[i] for i in sorted(relation_vocab)]
        self._symmetric = set(symmetric_relations(vocab))
        self.register_buffer(
            "_symmetric_class",
            torch.tensor([label in self._symmetric for label in self._relation_types], dtype=torch.bool),
            persistent=False,
        )

        hidden = embedder.get_output_dim()
        span_dim = hidden + width_embedding_dim
        head = head or HeadSettings()
        self._width_embedding = nn.Embedding(max_span_width, width_embedding_dim)
        nn.init.normal_(self._width_embedding.weight, std=head.init_std)
        self._dropout = nn.Dropout(dropout)
        num_entity_types = len(self._entity_types)
        relation_dim = 3 * span_dim - width_embedding_dim + (2 * num_entity_types if entity_logits else 0)
        if multitask:
            self._entity_head = MultiTaskHead(span_dim + hidden, num_entity_types, head)
            self._relation_head = MultiTaskHead(relation_dim, len(self._relation_types), head)
        else:
            self._entity_head = SoftmaxHead(span_dim + hidden, num_entity_types, head)
            self._relation_head = SigmoidHead(relation_dim, len(self._relation_types), head)

        self._ner_f1 = NerF1(per_type_metrics)
        self._relation_f1 = RelationF1(False, sorted(self._symmetric), per_type_metrics)
        self._strict_relation_f1 = RelationF1(True, sorted(self._symmetric), per_type_metrics)

    # ------------------------------------------------------------------ representations

    def _span_vectors(
        self, table: RangeMaxTable, spans: torch.Tensor
    ) -> torch.Tensor:
        """c(s): max-pooled words of each span (`(batch, n, 2)`, inclusive) with its width."""
        batch_index = torch.arange(spans.size(0), device=spans.device).unsqueeze(1).expand(spans.shape[:2])
        starts, ends = spans[..., 0], spans[..., 1]
        pooled = table.query(batch_index, starts.clamp(min=0), ends.clamp(min=0))
        widths = (ends - starts).clamp(0, self._max_span_width - 1)
        return torch.cat([pooled, self._width_embedding(widths)], dim=-1)

    def _classify_entities(
        self, span_vectors: torch.Tensor, cls: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], torch.Tensor, torch.Tensor]:
        """
        Returns identification logits (or `None`), the raw head output, and the per-type scores
        p(s) (the head output without its "NA" column for the softmax head).
        """
        inputs = torch.cat([span_vectors, cls.unsqueeze(1).expand(-1, span_vectors.size(1), -1)], dim=-1)
        identification, scores = self._entity_head(self._dropout(inputs))
        type_scores = scores if self._multitask else scores[..., 1:]
        return identification, scores, type_scores

    def _score_pairs(
        self,
        table: RangeMaxTable,
        spans: torch.Tensor,
        span_vectors: torch.Tensor,
        type_scores: torch.Tensor,
        pairs: torch.Tensor,
    ) -> Tuple[Optional[torch.Tensor], torch.Tensor]:
        """
        Scores the ordered pairs `pairs` (`(num_pairs > 0, 3)`: sentence, head index, tail index
        into `spans` / `span_vectors` / `type_scores`), `pair_chunk_size` pairs at a time.
        """
        identification_chunks, score_chunks = [], []
        for chunk in pairs.split(self._pair_chunk_size):
            batch, head, tail = chunk.unbind(-1)
            head_spans, tail_spans = spans[batch, head], spans[batch, tail]
            # The words strictly between the two spans; empty when they touch or overlap.
            between_start = torch.minimum(head_spans[:, 1], tail_spans[:, 1]) + 1
            between_end = torch.maximum(head_spans[:, 0], tail_spans[:, 0]) - 1
            context = table.query(batch, between_start, between_end)
            parts = [span_vectors[batch, head], context, span_vectors[batch, tail]]
            if self._entity_logits:
                parts += [type_scores[batch, head], type_scores[batch, tail]]
            identification, scores = self._relation_head(self._dropout(torch.cat(parts, dim=-1)))
            identification_chunks.append(identification)
            score_chunks.append(scores)
        identification = None if identification_chunks[0] is None else torch.cat(identification_chunks)
        return identification, torch.cat(score_chunks)

    # ------------------------------------------------------------------ losses

    def _multitask_loss(
        self,
        identification: torch.Tensor,
        scores: torch.Tensor,
        classes: torch.Tensor,
        weights: MultiTaskLoss,
        max_iou: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Per-candidate loss; `classes` holds class indices with `-1` for "no class"."""
        positive = classes >= 0
        if max_iou is not None:
            binary = iou_scaled_bce(identification, positive, max_iou, weights.iou_delta)
        else:
            binary = binary_cross_entropy(identification, positive)
        ranking = weights.ranking(scores.flatten(0, -2), classes.flatten()).view_as(classes)
        return weights.alpha * binary + weights.beta * ranking

    # ------------------------------------------------------------------ forward

    def forward(  # type: ignore
        self,
        text: TextFieldTensors,
        spans: torch.Tensor,
        metadata: List[Dict[str, Any]],
        span_labels: Optional[torch.Tensor] = None,
        span_max_iou: Optional[torch.Tensor] = None,
        entity_spans: Optional[torch.Tensor] = None,
        relations: Optional[torch.Tensor] = None,
    ) -> Dict[str, Any]:
        """
        # Parameters

        text : `TextFieldTensors`
            From the `pretrained_transformer_mismatched` indexer: word pieces and word offsets.
        spans : `torch.Tensor`, `(batch, num_spans, 2)`
            Candidate spans, inclusive word indices, `-1` padding.
        metadata : `List[Dict[str, Any]]`
            Words, gold entities and relations (for the metrics) and the document id.
        span_labels : `torch.Tensor`, optional, `(batch, num_spans)`
            Entity label id of each candidate (`"NA"` for non-entities).
        span_max_iou : `torch.Tensor`, optional, `(batch, num_spans)`
            ENIoU of each candidate.
        entity_spans : `torch.Tensor`, optional, `(batch, num_entities, 2)`
            The gold entities; relation candidates at training time are pairs of them.
        relations : `torch.Tensor`, optional, `(batch, num_entities, num_entities)`
            Relation label id of each ordered pair of gold entities, `-1` for none.

        # Returns

        `loss` when labels are given, and per sentence `entities` (`start`, exclusive `end`,
        `type`, `score`) and `relations` (`head`, `tail` as indices into `entities`, `type`,
        `score`) unless training.
        """
        tokens = text["tokens"]
        embeddings = self._embedder(
            tokens["token_ids"],
            tokens["wordpiece_mask"],
            type_ids=tokens.get("type_ids"),
            segment_concat_mask=tokens.get("segment_concat_mask"),
        )
        cls = embeddings[:, 0]
        table = RangeMaxTable(max_pool_words(embeddings, tokens["offsets"]), tokens["offsets"].size(1))
        span_mask = spans[..., 0] >= 0
        if self.training and span_labels is not None:
            # Only the candidates that enter the loss go through the heads (SpERT does the same).
            return {"loss": self._training_loss(table, cls, spans, span_mask, span_labels, span_max_iou, entity_spans, relations)}

        span_vectors = self._span_vectors(table, spans)
        entity_identification, entity_scores, entity_type_scores = self._classify_entities(span_vectors, cls)
        output: Dict[str, Any] = {}
        if span_labels is not None:
            # Validation loss: every candidate, so that it is deterministic.
            classes = self._entity_vocab_to_class[span_labels].masked_fill(~span_mask, -1)
            output["loss"] = self._entity_loss_over(
                entity_identification, entity_scores, classes, span_mask, span_max_iou
            )
            if entity_spans is not None and relations is not None:
                gold_vectors = self._span_vectors(table, entity_spans)
                _, _, gold_type_scores = self._classify_entities(gold_vectors, cls)
                output["loss"] = output["loss"] + self._relation_training_loss(
                    table, cls, entity_spans, relations, gold_vectors, gold_type_scores
                )
        entities, relations_out = self._decode(table, spans, span_mask, span_vectors, entity_scores, entity_type_scores)
        output["entities"] = entities
        output["relations"] = relations_out
        output["tokens"] = [m["tokens"] for m in metadata]
        output["doc_id"] = [m.get("doc_id") for m in metadata]
        if all("entities" in m for m in metadata):
            self._update_metrics(entities, relations_out, metadata)
        return output

    def _training_loss(
        self,
        table: RangeMaxTable,
        cls: torch.Tensor,
        spans: torch.Tensor,
        span_mask: torch.Tensor,
        span_labels: torch.Tensor,
        span_max_iou: Optional[torch.Tensor],
        entity_spans: Optional[torch.Tensor],
        relations: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """
        The training loss. The positive candidates and at most `negative_entities` sampled
        negatives per sentence are packed to the front of each row, the gold entities (relation
        candidates) appended, and all of them go through the span representation and the entity
        head once: the other candidates would only be multiplied by zero in the loss.
        """
        classes = self._entity_vocab_to_class[span_labels].masked_fill(~span_mask, -1)
        positive = span_mask & (classes >= 0)
        selected = positive | sample_up_to(span_mask & (classes < 0), self._negative_entities)
        count = int(selected.sum(dim=1).max())
        # Selected candidates first, in their original order.
        index = selected.to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :count]
        chosen = selected.gather(1, index)
        chosen_spans = spans.gather(1, index.unsqueeze(-1).expand(-1, -1, 2))
        chosen_iou = span_max_iou.gather(1, index) if span_max_iou is not None else None
        with_relations = entity_spans is not None and relations is not None
        all_spans = torch.cat([chosen_spans, entity_spans], dim=1) if with_relations else chosen_spans
        vectors = self._span_vectors(table, all_spans)
        identification, scores, type_scores = self._classify_entities(vectors, cls)
        loss = self._entity_loss_over(
            None if identification is None else identification[:, :count],
            scores[:, :count],
            classes.gather(1, index).masked_fill(~chosen, -1),
            chosen,
            chosen_iou,
        )
        if with_relations:
            loss = loss + self._relation_training_loss(
                table, cls, entity_spans, relations, vectors[:, count:], type_scores[:, count:]
            )
        return loss

    def _entity_loss_over(
        self,
        identification: Optional[torch.Tensor],
        scores: torch.Tensor,
        classes: torch.Tensor,
        selected: torch.Tensor,
        span_max_iou: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """The entity loss over the `selected` candidates; `classes` is -1 for "no entity"."""
        if self._multitask:
            max_iou = span_max_iou if (self._iou_scaled and span_max_iou is not None) else None
            losses = self._multitask_loss(identification, scores, classes, self._entity_loss, max_iou)
        else:
            losses = softmax_cross_entropy(scores, classes)
        return reduce_loss(losses, selected, self._loss_reduction)

    def _training_pairs(
        self, entity_spans: torch.Tensor, relations: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        The relation candidates of the loss: `(labels, selected)`, both `(batch, n, n)` over the
        ordered pairs of gold entities. Positives are the gold relations (symmetric ones in text
        order); negatives are unrelated distinct pairs, sampled in training, never the reverse
        of a symmetric gold relation.
        """
        # AdjacencyField builds a float matrix.
        relations = self._symmetric_in_text_order(relations.long(), entity_spans)
        entity_mask = entity_spans[..., 0] >= 0
        num_entities = entity_spans.size(1)
        distinct = ~torch.eye(num_entities, dtype=torch.bool, device=entity_spans.device)
        valid = entity_mask.unsqueeze(2) & entity_mask.unsqueeze(1) & distinct
        positive = valid & (relations >= 0)
        # The reverse of a symmetric relation is the same relation: never a negative.
        symmetric = positive & self._symmetric_class[relations.clamp(min=0)]
        negative = valid & (relations < 0) & ~symmetric.transpose(1, 2)
        if self.training:
            negative = sample_up_to(negative.flatten(1), self._negative_relations).view_as(negative)
        return relations, positive | negative

    def _relation_training_loss(
        self,
        table: RangeMaxTable,
        cls: torch.Tensor,
        entity_spans: torch.Tensor,
        relations: torch.Tensor,
        span_vectors: torch.Tensor,
        type_scores: torch.Tensor,
    ) -> torch.Tensor:
        """The relation loss over pairs of gold entities, given their span vectors and type scores."""
        relations, selected = self._training_pairs(entity_spans, relations)
        pairs = selected.nonzero()
        if pairs.size(0) == 0:
            return cls.new_zeros(())
        identification, scores = self._score_pairs(table, entity_spans, span_vectors, type_scores, pairs)
        classes = relations[pairs[:, 0], pairs[:, 1], pairs[:, 2]]
        if self._multitask:
            losses = self._multitask_loss(identification, scores, classes, self._relation_loss)
        else:
            losses = sigmoid_cross_entropy(scores, classes, self._sigmoid_loss_over_types)
        return reduce_loss(losses, torch.ones_like(losses), self._loss_reduction)

    def _symmetric_in_text_order(self, relations: torch.Tensor, entity_spans: torch.Tensor) -> torch.Tensor:
        """
        Moves each gold relation of a symmetric type whose head starts after its tail to the
        reverse cell (head first in the text, as SpERT stores them), so that a symmetric relation
        is always learnt in one direction. A reverse cell that already has a label keeps it.
        """
        if not bool(self._symmetric_class.any()):
            return relations
        starts = entity_spans[..., 0]
        backwards = starts.unsqueeze(2) > starts.unsqueeze(1)
        move = (relations >= 0) & self._symmetric_class[relations.clamp(min=0)] & backwards
        if not bool(move.any()):
            return relations
        moved = relations.masked_fill(move, -1)
        incoming = move.transpose(1, 2) & (moved < 0)
        return torch.where(incoming, relations.transpose(1, 2), moved)

    # ------------------------------------------------------------------ decoding

    def _decide_entities(self, scores: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """`(class index or -1, score)` of every candidate span."""
        if self._multitask:
            return ranking_decision(scores, self._entity_threshold)
        return softmax_decision(scores)

    def _decide_relations(self, scores: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(pair index, class index, score)` of every relation the pairs' scores predict."""
        if self._multitask:
            label, score = ranking_decision(scores, self._relation_threshold)
            pair = (label >= 0).nonzero(as_tuple=True)[0]
            return pair, label[pair], score[pair]
        return sigmoid_decisions(scores, self._relation_probability_threshold)

    def _decode(
        self,
        table: RangeMaxTable,
        spans: torch.Tensor,
        span_mask: torch.Tensor,
        span_vectors: torch.Tensor,
        entity_scores: torch.Tensor,
        entity_type_scores: torch.Tensor,
    ) -> Tuple[List[List[Dict[str, Any]]], List[List[Dict[str, Any]]]]:
        entity_class, entity_score = self._decide_entities(entity_scores)
        is_entity = span_mask & (entity_class >= 0)
        # Gather each sentence's predicted entities to the front: (batch, most entities).
        counts = is_entity.sum(dim=1)
        most = int(counts.max()) if counts.numel() else 0
        order = is_entity.long().argsort(dim=1, descending=True, stable=True)[:, :most]
        valid = torch.arange(most, device=spans.device).unsqueeze(0) < counts.unsqueeze(1)

        def take(values: torch.Tensor) -> torch.Tensor:
            index = order.view(order.shape + (1,) * (values.dim() - 2)).expand(order.shape + values.shape[2:])
            return values.gather(1, index)

        predicted_spans = take(spans)
        distinct = ~torch.eye(most, dtype=torch.bool, device=spans.device)
        pairs = (valid.unsqueeze(2) & valid.unsqueeze(1) & distinct).nonzero()
        relation_class = relation_score = pairs.new_zeros((0,))
        if pairs.size(0) > 0:
            _, relation_scores = self._score_pairs(
                table, predicted_spans, take(span_vectors), take(entity_type_scores), pairs
            )
            kept, relation_class, relation_score = self._decide_relations(relation_scores)
            pairs = pairs[kept]

        # From here on only the predicted items remain: plain Python lists are cheap.
        entities = entity_dicts(
            predicted_spans.tolist(),
            take(entity_class.unsqueeze(-1)).squeeze(-1).tolist(),
            take(entity_score.unsqueeze(-1)).squeeze(-1).tolist(),
            counts.tolist(),
            self._entity_types,
        )
        relations = relation_dicts(
            pairs.tolist(),
            relation_class.tolist(),
            relation_score.tolist(),
            len(entities),
            self._relation_types,
            self._symmetric,
        )
        return entities, relations

    # ------------------------------------------------------------------ metrics

    def _update_metrics(
        self,
        entities: List[List[Dict[str, Any]]],
        relations: List[List[Dict[str, Any]]],
        metadata: List[Dict[str, Any]],
    ) -> None:
        predicted_entities = [[(e["start"], e["end"], e["type"]) for e in sentence] for sentence in entities]
        predicted_relations = [
            [(ents[r["head"]], ents[r["tail"]], r["type"]) for r in sentence]
            for ents, sentence in zip(predicted_entities, relations)
        ]
        gold_entities = [[tuple(e) for e in m["entities"]] for m in metadata]
        gold_relations = [
            [(ents[h], ents[t], label) for h, t, label in m["relations"]]
            for ents, m in zip(gold_entities, metadata)
        ]
        self._ner_f1(predicted_entities, gold_entities)
        self._relation_f1(predicted_relations, gold_relations)
        self._strict_relation_f1(predicted_relations, gold_relations)

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        # Predictions are decoded only in evaluation: during training there is nothing to report.
        if self.training:
            return {}
        metrics: Dict[str, float] = {}
        for prefix, metric in (
            ("ner", self._ner_f1),
            ("rel", self._relation_f1),
            ("rel_strict", self._strict_relation_f1),
        ):
            for name, value in metric.get_metric(reset).items():
                metrics[f"{prefix}_{name}"] = value
        return metrics

    default_predictor = "spert_mt"

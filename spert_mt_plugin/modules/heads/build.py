"""
Which kind of head the model's `multitask` switch gives for entities and for relations.
"""

import logging

from spert_mt_plugin.modules.heads.head import Head, HeadSettings
from spert_mt_plugin.modules.heads.multitask_head import MultiTaskHead
from spert_mt_plugin.modules.heads.sigmoid_head import SigmoidHead
from spert_mt_plugin.modules.heads.softmax_head import SoftmaxHead
from spert_mt_plugin.modules.losses import MultiTaskLoss

logger = logging.getLogger(__name__)


def entity_head(
    multitask: bool,
    input_dim: int,
    num_types: int,
    settings: HeadSettings,
    loss: MultiTaskLoss,
    threshold: float,
    iou_scaled: bool,
) -> Head:
    """SpERT.MT's multi-task head (`loss`, `threshold`, `iou_scaled`), or SpERT's softmax head."""
    if multitask:
        return MultiTaskHead(input_dim, num_types, settings, loss, threshold, iou_scaled)
    if iou_scaled:
        logger.warning(
            "iou_scaled_identification has no effect without multitask: SpERT's heads have no identification output"
        )
    return SoftmaxHead(input_dim, num_types, settings)


def relation_head(
    multitask: bool,
    input_dim: int,
    num_types: int,
    settings: HeadSettings,
    loss: MultiTaskLoss,
    threshold: float,
    probability_threshold: float,
    over_types: str,
) -> Head:
    """
    SpERT.MT's multi-task head (`loss`, `threshold`), or SpERT's sigmoid head
    (`probability_threshold`, `over_types`).
    """
    if multitask:
        return MultiTaskHead(input_dim, num_types, settings, loss, threshold)
    return SigmoidHead(input_dim, num_types, settings, probability_threshold, over_types)

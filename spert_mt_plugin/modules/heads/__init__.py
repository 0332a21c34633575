"""
The classification heads: SpERT.MT's multi-task head and SpERT's single-step heads (`-MTL`).
"""

from spert_mt_plugin.modules.heads.build import entity_head, relation_head
from spert_mt_plugin.modules.heads.head import Head, HeadOutput, HeadSettings
from spert_mt_plugin.modules.heads.multitask_head import MultiTaskHead
from spert_mt_plugin.modules.heads.sigmoid_head import SigmoidHead
from spert_mt_plugin.modules.heads.softmax_head import SoftmaxHead

from spert_mt_plugin.modules.heads import (
    HeadSettings,
    MultiTaskHead,
    SigmoidHead,
    SoftmaxHead,
    entity_head,
    relation_head,
)
from spert_mt_plugin.modules.losses import MultiTaskLoss

LOGGER = "spert_mt_plugin.modules.heads.build"


def test_multitask_switch_chooses_the_kind_of_heads():
    settings, loss = HeadSettings(), MultiTaskLoss()
    assert isinstance(entity_head(True, 4, 3, settings, loss, 0.85, True), MultiTaskHead)
    assert isinstance(relation_head(True, 4, 3, settings, loss, 0.85, 0.4, "mean"), MultiTaskHead)
    assert isinstance(entity_head(False, 4, 3, settings, loss, 0.85, False), SoftmaxHead)
    assert isinstance(relation_head(False, 4, 3, settings, loss, 0.85, 0.4, "mean"), SigmoidHead)


def test_iou_scaled_identification_without_multitask_warns(caplog):
    settings, loss = HeadSettings(), MultiTaskLoss()
    with caplog.at_level("WARNING", logger=LOGGER):
        entity_head(False, 4, 3, settings, loss, 0.85, True)
    assert "iou_scaled_identification has no effect without multitask" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger=LOGGER):
        entity_head(False, 4, 3, settings, loss, 0.85, False)
        entity_head(True, 4, 3, settings, loss, 0.85, True)
    assert "no effect" not in caplog.text

import json

import pytest

from spert_mt_plugin.commands.plot import learning_curve, plot_learning_curves


def write_run(folder, values, validation=True):
    folder.mkdir(parents=True)
    for epoch, (ner, rel) in enumerate(values):
        metrics = {"epoch": epoch, "training_loss": 1.0 / (epoch + 1)}
        if validation:
            metrics.update(validation_ner_f1=ner, validation_rel_f1=rel, validation_rel_strict_f1=rel / 2)
        (folder / f"metrics_epoch_{epoch}.json").write_text(json.dumps(metrics))
    return folder


def test_learning_curves_are_read_per_epoch_in_order_and_drawn(tmp_path):
    values = [(0.1, 0.0), (0.5, 0.2), (0.7, 0.4), (0.72, 0.45), (0.8, 0.5), (0.81, 0.55), (0.82, 0.6), (0.83, 0.6),
              (0.84, 0.61), (0.85, 0.62), (0.855, 0.63)]  # 11 epochs: epoch 10 must sort after epoch 9
    mt = write_run(tmp_path / "runs" / "spert_mt", values)
    baseline = write_run(tmp_path / "runs" / "spert", [(0.2, 0.1), (0.6, 0.3)])
    curve = learning_curve(mt)
    assert [epoch for epoch, _ in curve["ner"]] == list(range(1, 12))
    assert curve["rel"][-1] == (11, pytest.approx(63.0))
    assert curve["rel_strict"][1] == (2, pytest.approx(10.0))
    output = tmp_path / "plots" / "curves.png"
    curves = plot_learning_curves([str(mt), str(baseline)], str(output))
    assert set(curves) == {"spert_mt", "spert"}
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_without_validation_metrics_is_named(tmp_path):
    run = write_run(tmp_path / "no_dev", [(0.5, 0.2)], validation=False)
    with pytest.raises(ValueError, match="no_dev.*validation_ner_f1"):
        learning_curve(run)
    with pytest.raises(ValueError, match="empty.*metrics_epoch"):
        (tmp_path / "empty").mkdir()
        learning_curve(tmp_path / "empty")

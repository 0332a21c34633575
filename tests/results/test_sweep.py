import json

import pytest

from spert_mt_plugin.results.runs import ResultsError
from spert_mt_plugin.results.sweep import sweep_points


def fake_run(folder, negatives, ner, rel):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model": {"negative_entities": negatives}}))
    metrics = {"test_ner_f1": ner, "test_rel_f1": rel, "test_rel_strict_f1": rel / 2}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return str(folder)


def test_points_per_value_with_the_seeds_mean_and_range(tmp_path):
    runs = [
        fake_run(tmp_path / "n200_s13", 200, 0.80, 0.60),
        fake_run(tmp_path / "n20_s13", 20, 0.70, 0.50),
        fake_run(tmp_path / "n20_s14", 20, 0.74, 0.40),
    ]
    points = sweep_points(runs, "model.negative_entities")
    assert [p["value"] for p in points] == [20, 200]
    assert points[0]["ner"]["mean"] == pytest.approx(72.0)
    assert (points[0]["rel"]["min"], points[0]["rel"]["max"]) == pytest.approx((40.0, 50.0))
    assert points[1]["rel_strict"]["values"] == pytest.approx([30.0])
    with pytest.raises(ResultsError, match="config.json has no model.negative_relations"):
        sweep_points(runs, "model.negative_relations")
    (tmp_path / "n20_s14" / "metrics.json").write_text("{}")
    with pytest.raises(ResultsError, match="n20_s14: not a finished run"):
        sweep_points(runs, "model.negative_entities")

import pytest

from spert_mt_plugin.results.tables import aggregate


def fake_metrics(value: float, macro: float) -> dict:
    metrics = {}
    for task in ("ner", "rel", "rel_strict"):
        for name in ("precision", "recall", "f1"):
            metrics[f"test_{task}_{name}"] = value
            metrics[f"test_{task}_macro_{name}"] = macro
    return metrics


def test_mean_and_sample_std_micro_and_macro():
    runs = [
        {"metrics": fake_metrics(0.5, 0.2)},
        {"metrics": fake_metrics(0.7, 0.4)},
        {"metrics": fake_metrics(0.6, 0.3)},
    ]
    micro = aggregate(runs, "micro")
    assert micro["rel_f1"]["mean"] == pytest.approx(0.6)
    # sample std of 0.5, 0.7, 0.6: sqrt(((.1)^2 + (.1)^2 + 0) / 2) = 0.1
    assert micro["rel_f1"]["std"] == pytest.approx(0.1)
    assert micro["ner_precision"]["runs"] == 3
    macro = aggregate(runs, "macro")
    assert macro["rel_strict_recall"]["mean"] == pytest.approx(0.3)
    assert aggregate(runs[:1], "micro")["rel_f1"]["std"] == 0.0

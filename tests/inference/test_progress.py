import logging

from spert_mt_plugin.inference import progress
from spert_mt_plugin.inference.progress import PredictionProgress, resident_memory_mb


def test_a_line_at_most_every_interval_with_overall_and_recent_rates(monkeypatch, caplog):
    clock = iter([0.0, 10.0, 40.0, 50.0, 80.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(progress, "resident_memory_mb", lambda: 1234.4)
    counter = PredictionProgress(interval=30)
    with caplog.at_level(logging.INFO, logger="spert_mt_plugin.inference.progress"):
        counter.add(8)  # t = 0: the first batch ends; rates count from here
        counter.add(8)  # t = 10
        counter.add(8, line=20)  # t = 40: 16 sentences in 40 s
        counter.add(16)  # t = 50
        counter.add(8)  # t = 80: 40 sentences in 80 s overall, 24 in the last 40 s
    assert caplog.messages == [
        "predicted 24 sentences (input line 20), 0.4 sentences/s (last 40 s: 0.4), RSS 1234 MB",
        "predicted 48 sentences, 0.5 sentences/s (last 40 s: 0.6), RSS 1234 MB",
    ]
    assert counter.sentences == 48


def test_resident_memory_is_measured():
    # This test process holds torch: far more than 10 MB, far less than a terabyte.
    assert 10 < resident_memory_mb() < 2**20

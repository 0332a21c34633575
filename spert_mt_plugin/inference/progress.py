"""
Progress of long predictions: `allennlp predict` over a large file says nothing until it ends, so the
predictor reports, at most every `interval` seconds while it predicts, how many sentences it has
predicted, how fast, and the process's memory (flat while `allennlp predict` streams).
"""

import logging
import os
import resource
import time
from typing import Optional

logger = logging.getLogger(__name__)

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_memory_mb() -> float:
    """The process's resident memory now (Linux's /proc/self/statm), else its peak (getrusage), in MB."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PredictionProgress:
    """
    Counts predicted sentences and logs a line (INFO, logger `spert_mt_plugin.inference.progress`)
    when `interval` seconds have passed since the last one:
    `predicted 12000 sentences (input line 11800), 48.2 sentences/s (last 30 s: 47.9), RSS 1630 MB`.

    # Parameters

    interval : `float`, optional (default = `30.0`)
        Least seconds between two lines.
    """

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self.sentences = 0
        self._start: Optional[float] = None
        self._first_batch = 0
        self._last_time = 0.0
        self._last_sentences = 0

    def add(self, sentences: int, line: Optional[int] = None) -> None:
        """`sentences` more were predicted; `line`: the last input line read, if lines are read."""
        now = time.perf_counter()
        if self._start is None:
            # The first batch's time is unknown (it started before this call): count from its end.
            self._start = self._last_time = now
            self.sentences = self._first_batch = self._last_sentences = sentences
            return
        self.sentences += sentences
        if now - self._last_time < self.interval:
            return
        where = f" (input line {line})" if line else ""
        overall = (self.sentences - self._first_batch) / (now - self._start)
        recent = (self.sentences - self._last_sentences) / (now - self._last_time)
        logger.info(
            "predicted %d sentences%s, %.1f sentences/s (last %.0f s: %.1f), RSS %.0f MB",
            self.sentences,
            where,
            overall,
            now - self._last_time,
            recent,
            resident_memory_mb(),
        )
        self._last_time, self._last_sentences = now, self.sentences

"""Test figures of runs against one config value that varies between them (e.g. the number of negatives)."""

import json
import statistics
from pathlib import Path
from typing import Any, Dict, List, Sequence

from spert_mt_plugin.results.runs import ResultsError, finished_metrics
from spert_mt_plugin.results.tables import figure


def config_value(config: Dict[str, Any], parameter: str) -> Any:
    """The value at a dotted path of a resolved config (`model.negative_entities`)."""
    value: Any = config
    for key in parameter.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(parameter)
        value = value[key]
    return value


def sweep_points(run_dirs: Sequence[str], parameter: str, average: str = "micro") -> List[Dict[str, Any]]:
    """
    One point per value of `parameter` among the finished runs in `run_dirs` (read from their
    `config.json` and `metrics.json`), in increasing order: the value, the runs' names and per task
    the test F1 (in %) of each run, their mean, minimum and maximum.
    """
    by_value: Dict[Any, List[Dict[str, Any]]] = {}
    for run_dir in map(Path, run_dirs):
        metrics = finished_metrics(run_dir)
        if metrics is None or not (run_dir / "config.json").exists():
            raise ResultsError(f"{run_dir}: not a finished run (no config.json, or no test figures in metrics.json)")
        config = json.loads((run_dir / "config.json").read_text())
        try:
            value = config_value(config, parameter)
        except KeyError:
            raise ResultsError(f"{run_dir}/config.json has no {parameter}") from None
        by_value.setdefault(value, []).append({"run": str(run_dir), "metrics": metrics})
    points = []
    for value in sorted(by_value):
        runs = by_value[value]
        point: Dict[str, Any] = {"value": value, "runs": [run["run"] for run in runs]}
        for task in ("ner", "rel", "rel_strict"):
            values = [100 * figure(run["metrics"], task, "f1", average) for run in runs]
            point[task] = {"values": values, "mean": statistics.fmean(values), "min": min(values), "max": max(values)}
        points.append(point)
    return points

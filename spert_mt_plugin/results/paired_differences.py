"""
The paired differences of a comparison as a picture: per task one dot per pair of runs (a seed or a
fold), the mean of the differences with its 95 % interval, zero and any claimed gain (the paper's)
marked, so that a reader sees at a glance how the seeds spread around the mean and where the claim
lies. The figures are those `spert-experiments` keeps in its table JSON (`comparisons`, see
`spert_mt_plugin.results.comparison`); nothing is recomputed. `spert-plot --differences` draws it.
"""

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spert_mt_plugin.results.runs import ResultsError

# The tasks drawn, as the comparison names them.
TASKS = ("NER", "RE")
CAPTION = "dots: the pairs of runs (seed or fold); diamond and bar: their mean and its 95 % interval"


def read_comparison(path: Path, pair: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """
    The comparison of config A with config B (`pair`, by name) in the table JSON at `path`, or its
    only comparison when `pair` is not given. Raises `ResultsError` naming the file when it is
    missing, not a table JSON, has no comparison, or has several and `pair` does not pick one.
    """
    if not path.is_file():
        raise ResultsError(f"{path}: no such file")
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsError(f"{path}: not a JSON table of spert-experiments ({error})") from None
    comparisons = table.get("comparisons") if isinstance(table, dict) else None
    if not comparisons:
        raise ResultsError(f"{path}: no paired comparison (a table of two configs, or --compare, makes one)")
    names = ", ".join(f"{c['a']} − {c['b']}" for c in comparisons)
    if pair is None:
        if len(comparisons) > 1:
            raise ResultsError(f"{path}: {len(comparisons)} comparisons ({names}): name one with --compare A B")
        return comparisons[0]
    for comparison in comparisons:
        if [comparison["a"], comparison["b"]] == list(pair):
            return comparison
    raise ResultsError(f"{path}: no comparison {pair[0]} − {pair[1]} (it has: {names})")


def pair_tag(run_name: str) -> str:
    """The short name of a pair from its first run's name: "13" for "conll04 (seed 13)", "fold 0" with folds."""
    match = re.search(r"\((?:fold (\d+), )?seed (\d+)\)$", run_name)
    if match is None:
        return run_name
    fold, seed = match.groups()
    return f"fold {fold}" if fold is not None else seed


def difference_points(comparison: Dict[str, Any], tasks: Sequence[str] = TASKS) -> Dict[str, Dict[str, Any]]:
    """
    Per task, in F1 points: `differences` (one per pair, A − B), `tags` (each pair's `pair_tag`),
    `mean`, `ci95` (low, high; `None` for a single pair) and `p_value` (`None` without a sentence test).
    """
    tags = [pair_tag(a) for a, _ in comparison["pairs"]]
    points = {}
    for task in tasks:
        if task not in comparison["tasks"]:
            raise ResultsError(f"comparison {comparison['a']} − {comparison['b']} has no task {task!r}")
        result = comparison["tasks"][task]
        interval = result.get("ci95")
        points[task] = {
            "differences": [100 * d for d in result["differences"]],
            "tags": tags,
            "mean": 100 * result["mean"],
            "ci95": None if interval is None else (100 * interval[0], 100 * interval[1]),
            "p_value": result.get("p_value"),
        }
    return points


def signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def summary_lines(series: Dict[str, Dict[str, Dict[str, Any]]]) -> List[str]:
    """One line per series and task: the mean, its interval, p and each pair's difference, as printed in tables."""
    lines = []
    for label, points in series.items():
        for task, p in points.items():
            interval = "" if p["ci95"] is None else f" [{signed(p['ci95'][0])}, {signed(p['ci95'][1])}]"
            p_value = "" if p["p_value"] is None else f", p {p['p_value']:.4f}"
            pairs = ", ".join(f"{tag} {signed(d)}" for tag, d in zip(p["tags"], p["differences"]))
            lines.append(f"{label} {task}: mean {signed(p['mean'])}{interval}{p_value}; per pair: {pairs}")
    return lines


def draw_differences(series: Dict[str, Dict[str, Dict[str, Any]]], claims: Dict[str, float], difference_label: str):
    """
    A matplotlib figure of one panel per task with one row per series (e.g. nested and flat
    decoding): each pair's difference a dot, spread over the row's height in pair order (equal
    differences would hide each other on one line) and tagged with the pair's seed; under them the
    mean as a diamond with its 95 % interval as a bar. Zero is a grey line, a task's claimed gain in
    `claims` a red dashed one. The caller saves and closes it (`results.figures.save_figure`).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(next(iter(series.values())))
    labels = list(series)
    figure, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 1.6 + 1.4 * len(labels)), squeeze=False)
    for axis, task in zip(axes[0], tasks):
        for row, label in enumerate(labels):
            p = series[label][task]
            centre = len(labels) - 1 - row  # the first series on top
            count = len(p["differences"])
            heights = [centre + 0.1 + (0.3 * i / (count - 1) if count > 1 else 0.15) for i in range(count)]
            axis.scatter(p["differences"], heights, s=20, color=f"C{row}", zorder=3)
            for x, y, tag in zip(p["differences"], heights, p["tags"]):
                axis.annotate(tag, (x, y), xytext=(4, 0), textcoords="offset points", fontsize=6, va="center")
            bar = None if p["ci95"] is None else [[p["mean"] - p["ci95"][0]], [p["ci95"][1] - p["mean"]]]
            axis.errorbar([p["mean"]], [centre - 0.15], xerr=bar, fmt="D", color=f"C{row}", capsize=4, zorder=4)
        axis.axvline(0, color="grey", linewidth=1)
        if task in claims:
            axis.axvline(claims[task], color="red", linestyle="--", linewidth=1)
            axis.text(claims[task], len(labels) - 0.45, f" claimed {claims[task]:+g}", color="red", fontsize=8)
        axis.set_yticks(range(len(labels)), labels=labels[::-1])
        axis.set_ylim(-0.5, len(labels) - 0.3)
        axis.set_title(f"{task} F1")
        axis.set_xlabel(f"{difference_label} (F1 points)")
        axis.grid(axis="x", alpha=0.3)
    return figure

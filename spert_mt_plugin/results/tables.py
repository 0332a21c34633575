"""Mean ± standard deviation of every test figure over a config's runs, as JSON and Markdown."""

import statistics
from typing import Any, Dict, List

# (name in tables, metric prefix)
TASKS = (("NER", "ner"), ("RE", "rel"), ("RE strict", "rel_strict"))
FIGURES = ("precision", "recall", "f1")


def convention(config: str) -> str:
    """'macro' for configs that select models by a macro metric (ADE), else 'micro'."""
    from allennlp.common import Params

    metric = Params.from_file(config).get("trainer", {}).get("validation_metric", "")
    return "macro" if "macro" in str(metric) else "micro"


def figure(metrics: Dict[str, Any], task: str, name: str, average: str) -> float:
    key = f"test_{task}_{name}" if average == "micro" else f"test_{task}_macro_{name}"
    return float(metrics[key])


def aggregate(runs: List[Dict[str, Any]], average: str) -> Dict[str, Dict[str, float]]:
    """Mean and sample standard deviation (0 for one run) of every figure over `runs`' metrics."""
    summary: Dict[str, Dict[str, float]] = {}
    for _, task in TASKS:
        for name in FIGURES:
            values = [figure(run["metrics"], task, name, average) for run in runs]
            summary[f"{task}_{name}"] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "runs": len(values),
            }
    return summary


def runs_phrase(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


def markdown_table(results: Dict[str, Any]) -> str:
    """Per config: one row per run and the mean ± std row."""
    lines = []
    decoded = f", {results['decoding']} decoding" if "decoding" in results else ""
    for config, entry in results["configs"].items():
        average = entry["average"]
        lines.append(f"### {config} ({average} averages, test set{decoded}, in %)\n")
        header = "| run | " + " | ".join(f"{t} {n[0].upper()}" for t, _ in TASKS for n in FIGURES) + " |"
        lines += [header, "|" + "---|" * (1 + len(TASKS) * len(FIGURES))]
        for run in entry["runs"]:
            cells = [f"{100 * figure(run['metrics'], task, n, average):.2f}" for _, task in TASKS for n in FIGURES]
            lines.append(f"| {run['name']} | " + " | ".join(cells) + " |")
        summary = entry["summary"]
        cells = [
            f"{100 * summary[f'{task}_{n}']['mean']:.2f} ± {100 * summary[f'{task}_{n}']['std']:.2f}"
            for _, task in TASKS
            for n in FIGURES
        ]
        lines.append(f"| **mean ± std ({runs_phrase(len(entry['runs']))})** | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)

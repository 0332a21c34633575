"""
Is config A better than config B? Two answers, over the runs the two configs share (same seeds and
folds):

- the mean paired difference of each F1 over the pairs of runs, with a 95 % confidence interval
  (Student's t over the pairs: the spread of training runs);
- a paired approximate randomization test over the test sentences (the spread of the test set):
  in each of `samples` shuffles every sentence's predictions of A and B are swapped with
  probability 1/2; the p-value is the share of shuffles whose |F1(A) − F1(B)| is at least the
  observed one, counted as (hits + 1) / (samples + 1) (Noreen, 1989; Riezler & Maxwell, 2005).
  Identical systems get p = 1. It is run on the sentences of all pairs pooled, and on each pair's
  own (SPEC, "Comparing two configurations").

F1 is computed as the package's metrics compute it (entities: span and type; relations: both
argument spans and the type, strict: also the argument types; symmetric relation types in either
direction), micro or macro over the types as the config's dataset reports it. With a decoding other
than "nested", the kept predictions are decoded again first (`decoding`) and every figure is
recomputed from them (`redecoded_metrics`).
"""

import math
import statistics
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy

from spert_mt_plugin.metrics.typed_set_f1 import Item, NerF1, RelationF1, TypedSetF1, sentence_counts
from spert_mt_plugin.results.decoding import decode_predictions
from spert_mt_plugin.results.predictions import PREDICTIONS_FILE, read_predictions
from spert_mt_plugin.results.runs import ResultsError
from spert_mt_plugin.results.tables import TASKS, figure, markdown_table

SAMPLES = 10_000
RANDOM_SEED = 13


def method(samples: int) -> str:
    return (
        f"paired approximate randomization over the test sentences of all pairs of runs (and, in parentheses, "
        f"of each pair's), two-sided, {samples:,} shuffles (seed {RANDOM_SEED}); "
        "95 % CI of the mean paired difference: Student's t over the pairs"
    )


def sentence_items(line: Dict[str, Any], task: str) -> Tuple[List[Item], List[Item]]:
    """The predicted and the gold items of one sentence for `task` (`ner`, `rel` or `rel_strict`)."""

    def entities(annotation: Dict[str, Any]) -> List[Tuple[int, int, str]]:
        return [(e["start"], e["end"], e["type"]) for e in annotation["entities"]]

    def relations(annotation: Dict[str, Any]) -> list:
        spans = entities(annotation)
        return [(spans[r["head"]], spans[r["tail"]], r["type"]) for r in annotation["relations"]]

    if task == "ner":
        return NerF1.items(entities(line)), NerF1.items(entities(line["gold"]))
    symmetric = sorted({r["type"] for r in line["relations"] + line["gold"]["relations"] if r.get("symmetric")})
    metric = RelationF1(task == "rel_strict", symmetric)
    return metric.items(relations(line)), metric.items(relations(line["gold"]))


def prediction_metrics(lines: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """
    The test figures of prediction `lines` under the names a run's metrics.json gives them
    (`test_ner_f1`, `test_rel_macro_precision`, ...): each task's items as `sentence_items` builds
    them, counted and averaged by the model's metric.
    """
    figures = {}
    for _, task in TASKS:
        metric = TypedSetF1()
        items = [sentence_items(line, task) for line in lines]
        metric.count([predicted for predicted, _ in items], [gold for _, gold in items])
        figures.update({f"test_{task}_{name}": value for name, value in metric.get_metric().items()})
    return figures


def redecoded_metrics(run: Dict[str, Any], decoding: str) -> Dict[str, Any]:
    """
    `run`'s metrics (an entry of `run_experiments`' table: `name`, `directory`, `metrics`) with
    every test figure recomputed from its kept test predictions decoded as `decoding` asks. The
    predictions must first give the run's own figures: else they are not the ones it was tested
    with, and decoding them again would not tell what the run's model gives.
    """
    path = Path(run["directory"]) / PREDICTIONS_FILE
    if not path.exists():
        raise ResultsError(f"--decoding {decoding}: {run['name']} has no test predictions ({path})")
    lines = read_predictions(path)
    for key, value in prediction_metrics(lines).items():
        tested = run["metrics"].get(key)
        # A tolerance for the last bits of the float sums; a different prediction moves F1 by far more.
        if tested is None or abs(tested - value) > 1e-9:
            raise ResultsError(
                f"{path}: these predictions give {key} {value:.6f}, but {run['name']}'s metrics.json "
                f"{'has none' if tested is None else f'{tested:.6f}'}: they are not the predictions it was tested "
                f"with, and cannot be decoded {decoding} instead"
            )
    return dict(run["metrics"], **prediction_metrics(decode_predictions(lines, decoding, str(path))))


def count_matrices(
    system_a: Sequence[Dict[str, Any]], system_b: Sequence[Dict[str, Any]], task: str
) -> Tuple[numpy.ndarray, numpy.ndarray]:
    """
    Per sentence and type, (true positives, false positives, false negatives) of both systems:
    two arrays of shape `(sentences, types, 3)` over the same type index.
    """
    per_sentence = []
    for line_a, line_b in zip(system_a, system_b):
        per_sentence.append([sentence_counts(*sentence_items(line, task)) for line in (line_a, line_b)])
    types = sorted({label for pair in per_sentence for counts in pair for kind in counts for label in kind})
    index = {label: i for i, label in enumerate(types)}
    matrices = numpy.zeros((2, len(per_sentence), max(len(types), 1), 3), dtype=numpy.int64)
    for sentence, pair in enumerate(per_sentence):
        for system, counts in enumerate(pair):
            for kind, counter in enumerate(counts):
                for label, value in counter.items():
                    matrices[system, sentence, index[label], kind] = value
    return matrices[0], matrices[1]


def f1_of_counts(totals: numpy.ndarray, average: str) -> numpy.ndarray:
    """
    F1 from summed counts of shape `(..., types, 3)`. Micro pools the types; macro averages the
    per-type F1 over the types that occur (in the gold data or the predictions), as `TypedSetF1`.
    """
    totals = totals.astype(numpy.float64)
    if average == "micro":
        totals = totals.sum(axis=-2, keepdims=True)
    tp, fp, fn = totals[..., 0], totals[..., 1], totals[..., 2]
    with numpy.errstate(invalid="ignore", divide="ignore"):
        precision = numpy.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = numpy.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = numpy.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    if average == "micro":
        return f1[..., 0]
    occurs = (tp + fp + fn) > 0
    return numpy.where(occurs.any(axis=-1), (f1 * occurs).sum(axis=-1) / numpy.maximum(occurs.sum(axis=-1), 1), 0.0)


def approximate_randomization(
    counts_a: numpy.ndarray, counts_b: numpy.ndarray, average: str, samples: int = SAMPLES, seed: int = RANDOM_SEED
) -> float:
    """Two-sided p-value of the difference in F1 between two systems' per-sentence counts (see the module)."""
    observed = abs(f1_of_counts(counts_a.sum(0), average) - f1_of_counts(counts_b.sum(0), average))
    sentences = counts_a.shape[0]
    difference = (counts_b - counts_a).reshape(sentences, -1).astype(numpy.float64)
    total_a, total_b = counts_a.sum(0).reshape(-1), counts_b.sum(0).reshape(-1)
    generator = numpy.random.default_rng(seed)
    hits = 0
    for start in range(0, samples, 1000):
        swap = generator.integers(0, 2, size=(min(1000, samples - start), sentences)).astype(numpy.float64)
        moved = swap @ difference
        shuffled_a = (total_a + moved).reshape((-1,) + counts_a.shape[1:])
        shuffled_b = (total_b - moved).reshape((-1,) + counts_a.shape[1:])
        statistic = numpy.abs(f1_of_counts(shuffled_a, average) - f1_of_counts(shuffled_b, average))
        # A tolerance so that differences equal up to rounding count as "at least as large".
        hits += int((statistic >= observed - 1e-12).sum())
    return (hits + 1) / (samples + 1)


def mean_difference(values_a: Sequence[float], values_b: Sequence[float]) -> Dict[str, Any]:
    """Mean of the paired differences a − b with a 95 % Student's t interval (none for one pair)."""
    from scipy.stats import t as student_t

    differences = [a - b for a, b in zip(values_a, values_b)]
    mean = statistics.fmean(differences)
    interval: Optional[List[float]] = None
    if len(differences) > 1:
        half = student_t.ppf(0.975, len(differences) - 1) * statistics.stdev(differences) / math.sqrt(len(differences))
        interval = [mean - half, mean + half]
    return {"mean": mean, "ci95": interval, "differences": differences}


def compare(
    name_a: str,
    entry_a: Dict[str, Any],
    name_b: str,
    entry_b: Dict[str, Any],
    samples: int = SAMPLES,
    decoding: str = "nested",
) -> Dict[str, Any]:
    """
    The comparison of two configs' table entries (`run_experiments`' `results["configs"][name]`):
    their runs are paired by fold and seed. The sentence test needs every paired run's
    `test_predictions.jsonl.gz`; without them only the paired differences are given. The sentence
    test decodes the predictions as `decoding` asks; the paired differences are those of the
    entries' metrics, which `redecoded_metrics` gives for a decoding other than "nested".
    """
    average = entry_a["average"]
    if entry_b["average"] != average:
        raise ResultsError(f"{name_a} reports {average} averages, {name_b} {entry_b['average']}: not comparable")
    runs_b = {(run["fold"], run["seed"]): run for run in entry_b["runs"]}
    pairs = [
        (run, runs_b[(run["fold"], run["seed"])]) for run in entry_a["runs"] if (run["fold"], run["seed"]) in runs_b
    ]
    if not pairs:
        raise ResultsError(f"{name_a} and {name_b} have no runs of the same fold and seed")
    missing = [
        run["name"] for pair in pairs for run in pair if not (Path(run["directory"]) / PREDICTIONS_FILE).exists()
    ]
    # Each pair's decoded predictions (A's, B's), in the order of the pairs.
    pair_lines: List[Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]] = []
    if not missing:
        for run_a, run_b in pairs:
            path_a, path_b = (Path(run["directory"]) / PREDICTIONS_FILE for run in (run_a, run_b))
            a = decode_predictions(read_predictions(path_a), decoding, str(path_a))
            b = decode_predictions(read_predictions(path_b), decoding, str(path_b))
            if [line["tokens"] for line in a] != [line["tokens"] for line in b]:
                raise ResultsError(f"{run_a['name']} and {run_b['name']} were tested on different sentences")
            pair_lines.append((a, b))
    lines_a = [line for a, _ in pair_lines for line in a]
    lines_b = [line for _, b in pair_lines for line in b]
    tasks = {}
    for label, task in TASKS:
        result = mean_difference(
            [figure(a["metrics"], task, "f1", average) for a, _ in pairs],
            [figure(b["metrics"], task, "f1", average) for _, b in pairs],
        )
        result["p_value"] = None
        if not missing:
            counts_a, counts_b = count_matrices(lines_a, lines_b, task)
            result["pooled_f1"] = [float(f1_of_counts(c.sum(0), average)) for c in (counts_a, counts_b)]
            result["p_value"] = approximate_randomization(counts_a, counts_b, average, samples)
            # Each pair's sentences are a block of the pooled rows; a type a pair never meets is an
            # all-zero column, which neither micro nor macro F1 counts.
            ends = numpy.cumsum([len(a) for a, _ in pair_lines])
            result["p_per_pair"] = [
                approximate_randomization(counts_a[end - len(a) : end], counts_b[end - len(a) : end], average, samples)
                for (a, _), end in zip(pair_lines, ends)
            ]
        tasks[label] = result
    comparison = {
        "a": name_a,
        "b": name_b,
        "average": average,
        "pairs": [[a["name"], b["name"]] for a, b in pairs],
        "sentences": len(lines_a),
        "method": method(samples),
        "missing_predictions": missing,
        "tasks": tasks,
    }
    if decoding != "nested":
        # Only then: a table of the predictions as kept stays what it was before decodings existed.
        comparison["decoding"] = decoding
    return comparison


def markdown_comparison(comparison: Dict[str, Any]) -> str:
    """The comparison as a Markdown section: one row per task, differences in F1 points."""

    def points(value: float) -> str:
        return f"{100 * value:+.2f}".replace("-", "−")

    pairs = len(comparison["pairs"])
    decoded = f", {comparison['decoding']} decoding" if "decoding" in comparison else ""
    lines = [
        f"### {comparison['a']} − {comparison['b']}: paired over {pairs} pair{'s' if pairs != 1 else ''} of runs "
        f"({comparison['average']} F1, test set{decoded}, in points)\n",
        "| task | mean difference | 95 % CI | per pair (p of the pair's sentences) | p (all pairs' sentences) |",
        "|---|---|---|---|---|",
    ]
    for task, result in comparison["tasks"].items():
        interval = "—" if result["ci95"] is None else f"[{points(result['ci95'][0])}, {points(result['ci95'][1])}]"
        pair_p = result.get("p_per_pair") or [None] * len(result["differences"])
        per_pair = ", ".join(
            points(d) + ("" if p is None else f" ({p:.3f})") for d, p in zip(result["differences"], pair_p)
        )
        p_value = "—" if result["p_value"] is None else f"{result['p_value']:.4f}"
        lines.append(f"| {task} | {points(result['mean'])} | {interval} | {per_pair} | {p_value} |")
    lines.append("")
    if comparison["missing_predictions"]:
        lines.append(f"No sentence test: no test predictions kept for {', '.join(comparison['missing_predictions'])}.")
    else:
        lines.append(f"p: {comparison['method']}; {comparison['sentences']} sentences.")
    lines.append("")
    return "\n".join(lines)


def markdown_report(results: Dict[str, Any]) -> str:
    """The tables of `run_experiments`' results, then their paired comparisons, as Markdown."""
    note = [f"**Decoding: {results['decoding']}.** {results['decoding_note']}.\n"] if "decoding" in results else []
    return "\n".join(
        note + [markdown_table(results)] + [markdown_comparison(c) for c in results.get("comparisons", [])]
    )

"""
`allennlp spert-plot`: learning curves (validation NER and RE F1 per epoch) of training runs, or with
`--differences` the paired differences of kept comparisons (`commands.plot_differences`).
"""

import argparse
import json
import logging
import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.commands.plot_differences import add_difference_arguments, plot_differences_from_args
from spert_mt_plugin.results.figures import save_figure
from spert_mt_plugin.results.runs import ResultsError

logger = logging.getLogger(__name__)

PANELS = (("ner", "NER F1"), ("rel", "RE F1"), ("rel_strict", "RE strict F1"))


def learning_curve(run_dir: Path, average: str = "micro") -> Dict[str, List[Tuple[int, float]]]:
    """
    `{task: [(epoch, validation F1 in %), ...]}` from the `metrics_epoch_N.json` files AllenNLP
    writes into a run folder. Raises `ResultsError` naming the folder when it does not exist or has
    no such file, naming the file when one is not a JSON object, and naming the folder when its
    epochs have no validation metrics (a run trained without a validation split).
    """
    if not run_dir.is_dir():
        raise ResultsError(f"{run_dir}: no such folder")
    files = sorted(run_dir.glob("metrics_epoch_*.json"), key=lambda p: int(re.findall(r"\d+", p.name)[-1]))
    if not files:
        raise ResultsError(f"{run_dir}: no metrics_epoch_*.json (not an AllenNLP run folder, or no epoch finished)")
    suffix = "_f1" if average == "micro" else "_macro_f1"
    curves: Dict[str, List[Tuple[int, float]]] = {task: [] for task, _ in PANELS}
    for path in files:
        metrics = _metrics(path)
        epoch = int(metrics.get("epoch", re.findall(r"\d+", path.name)[-1])) + 1
        for task, _ in PANELS:
            key = f"validation_{task}{suffix}"
            if key in metrics:
                curves[task].append((epoch, 100.0 * float(metrics[key])))
    if not curves["ner"]:
        raise ResultsError(
            f"{run_dir}: the epochs have no validation_ner{suffix} (was it trained without a validation split?)"
        )
    return curves


def _metrics(path: Path) -> dict:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        # AllenNLP writes these files in place: a run killed while writing one leaves it torn.
        raise ResultsError(f"{path}: not a JSON metrics file ({error})") from None
    if not isinstance(metrics, dict):
        raise ResultsError(f"{path}: not a JSON metrics file (a {type(metrics).__name__}, not an object)")
    return metrics


def kept_epoch(run_dir: Path) -> Optional[int]:
    """
    The epoch (1-based) whose weights the run kept, i.e. the best one on the validation metric, as
    AllenNLP records it in `best_epoch` of the last `metrics_epoch_N.json`; `None` if not recorded.
    """
    files = sorted(run_dir.glob("metrics_epoch_*.json"), key=lambda p: int(re.findall(r"\d+", p.name)[-1]))
    if not files:
        return None
    best = _metrics(files[-1]).get("best_epoch")
    return None if best is None else int(best) + 1


def first_epoch_reaching(curve: Sequence[Tuple[int, float]], target: float) -> Optional[int]:
    """The first epoch whose value is at least `target` (rounded to 2 decimals, as printed), or `None`."""
    for epoch, value in curve:
        if round(value, 2) >= round(target, 2):
            return epoch
    return None


def check_reference(reference: str, labels: Sequence[str]) -> None:
    if reference not in labels:
        raise ResultsError(f"--reference {reference!r} is not one of the runs' labels: {', '.join(labels)}")


def reaching_lines(curves: Dict[str, Dict[str, List[Tuple[int, float]]]], reference: str) -> List[str]:
    """
    How fast each run learns against `reference`: per other run, the first epoch at which its
    validation NER F1 and RE F1 reach the reference run's last-epoch values.
    """
    check_reference(reference, list(curves))
    lines = []
    for label, curve in curves.items():
        if label == reference:
            continue
        parts = []
        for task, name in PANELS[:2]:
            last_epoch, target = curves[reference][task][-1]
            epoch = first_epoch_reaching(curve[task], target)
            reached = f"at epoch {epoch}" if epoch is not None else f"not within its {len(curve[task])} epochs"
            parts.append(f"{name} {target:.2f} (its epoch {last_epoch}) {reached}")
        lines.append(f"{label} reaches {reference}'s " + "; ".join(parts))
    return lines


def run_label(run_dir: Path, common: Optional[Path]) -> str:
    """A short name for a run: its path below the runs' common folder."""
    if common is not None:
        try:
            relative = run_dir.resolve().relative_to(common)
            if str(relative) != ".":
                return str(relative)
        except ValueError:
            pass
    return run_dir.name


def run_labels(run_dirs: Sequence[str], labels: Optional[Sequence[str]] = None) -> List[str]:
    """
    The legend label of each run: `labels`, one per run, or else `run_label`. A wrong number of
    labels, or two runs with the same label (one line would hide the other), is a `ResultsError`.
    """
    if labels is not None and len(labels) != len(run_dirs):
        raise ResultsError(f"--labels: {len(labels)} labels for {len(run_dirs)} runs")
    paths = [Path(d) for d in run_dirs]
    common = None
    if len(paths) > 1:
        common = Path(os.path.commonpath([str(p.resolve()) for p in paths]))
    names = list(labels) if labels is not None else [run_label(path, common) for path in paths]
    for index, name in enumerate(names):
        if name in names[:index]:
            first = names.index(name)
            raise ResultsError(
                f"runs {run_dirs[first]} and {run_dirs[index]} both have the label {name!r} (--labels names each run)"
            )
    return names


def plot_learning_curves(
    run_dirs: Sequence[str],
    output: str,
    labels: Optional[Sequence[str]] = None,
    average: str = "micro",
    title: Optional[str] = None,
    from_epoch: int = 1,
) -> Dict[str, Dict[str, List[Tuple[int, float]]]]:
    """
    Draws one panel per task (NER, RE, strict RE) with one line per run into `output` (PNG); the
    epoch each run kept (best on validation) is drawn as a larger open circle. `from_epoch` leaves
    out the epochs before it, so that runs which end close together can be told apart (the first
    epochs' low scores would otherwise set the scale). Returns the curves as drawn, in the order of
    `run_dirs`. Labels that `run_labels` rejects, a run that `learning_curve` cannot read or that has
    no epoch from `from_epoch` on raise `ResultsError`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    curves = {}
    kept: Dict[str, Optional[int]] = {}
    for label, run_dir in zip(run_labels(run_dirs, labels), run_dirs):
        path = Path(run_dir)
        curve = learning_curve(path, average)
        curves[label] = {task: [(e, v) for e, v in points if e >= from_epoch] for task, points in curve.items()}
        if not curves[label]["ner"]:
            raise ResultsError(f"{path}: no epoch at or after --from-epoch {from_epoch} (last: {curve['ner'][-1][0]})")
        kept[label] = kept_epoch(path)

    figure, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 4), sharex=True)
    for axis, (task, name) in zip(axes, PANELS):
        for label, curve in curves.items():
            if curve[task]:
                epochs, values = zip(*curve[task])
                (line,) = axis.plot(epochs, values, marker="o", markersize=3, label=label)
                if kept[label] in epochs:
                    value = values[epochs.index(kept[label])]
                    axis.plot(
                        [kept[label]], [value], marker="o", markersize=9, fillstyle="none", color=line.get_color()
                    )
        axis.set_title(f"validation {name}" + (" (macro)" if average == "macro" else ""))
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel("F1 (%)")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    save_figure(figure, output, title, "open circle: the epoch each run kept (best on validation)")
    return curves


@Subcommand.register("spert-plot")
class Plot(Subcommand):
    """`allennlp spert-plot RUN_DIR... -o curves.png`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Draw the learning curves of training runs: validation NER, RE and strict RE F1 per epoch, "
            "one line per run, read from the metrics_epoch_*.json files of each run folder. The runs need a "
            "validation split (validation_data_path): CoNLL04's conll04.jsonnet and ADE train without one, "
            "conll04_dev.jsonnet and scierc.jsonnet have one. Epochs are numbered from 1 (AllenNLP's metrics files "
            "count from 0: best_epoch 0 in metrics.json is epoch 1 here). With --differences TABLE_JSON instead: the "
            "paired differences of a spert-experiments comparison, one dot per seed, their mean and 95 % interval."
        )
        subparser = parser.add_parser(self.name, description=description, help="Plot learning curves of runs.")
        subparser.add_argument("run_dirs", nargs="*", help="run folders (allennlp train -s ...)")
        subparser.add_argument("-o", "--output", required=True, help="PNG file to write")
        subparser.add_argument(
            "--labels", nargs="+", default=None, help="one legend label per run (with --differences: per table)"
        )
        subparser.add_argument("--average", choices=("micro", "macro"), default="micro", help="F1 average (ADE: macro)")
        subparser.add_argument("--title", default=None, help="figure title")
        subparser.add_argument(
            "--from-epoch",
            type=int,
            default=1,
            help="draw epochs from this one on (1-based), to tell apart runs that end close together",
        )
        subparser.add_argument(
            "--reference",
            default=None,
            metavar="LABEL",
            help="also print the first epoch at which each other run reaches this run's last-epoch "
            "validation NER and RE F1 (how fast a model learns)",
        )
        add_difference_arguments(subparser)
        subparser.set_defaults(func=plot_from_args)
        return subparser


def plot_from_args(args: argparse.Namespace) -> None:
    if args.differences is not None:
        return plot_differences_from_args(args)
    if not args.run_dirs:
        raise ResultsError("no run folders to plot (or --differences TABLE_JSON)")
    if args.reference is not None:
        # before drawing, so that a wrong --reference does not leave an image behind
        check_reference(args.reference, run_labels(args.run_dirs, args.labels))
    curves = plot_learning_curves(args.run_dirs, args.output, args.labels, args.average, args.title, args.from_epoch)
    for (label, curve), run_dir in zip(curves.items(), args.run_dirs):
        last_epoch, ner = curve["ner"][-1]
        rel = dict(curve["rel"]).get(last_epoch, float("nan"))
        line = f"{label}: last epoch {last_epoch}: NER F1 {ner:.2f}, RE F1 {rel:.2f}"
        kept = kept_epoch(Path(run_dir))
        if kept is not None and kept in dict(curve["ner"]):
            ner, rel = dict(curve["ner"])[kept], dict(curve["rel"]).get(kept, float("nan"))
            line += f"; kept epoch {kept}: NER F1 {ner:.2f}, RE F1 {rel:.2f}"
        print(line)
    if args.reference is not None:
        for line in reaching_lines(curves, args.reference):
            print(line)
    print(f"wrote {args.output}")

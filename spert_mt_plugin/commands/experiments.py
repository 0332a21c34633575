"""
`allennlp spert-experiments`: one config over several seeds and/or cross-validation folds, resumable,
with one results table (JSON and Markdown) of every run and the mean and standard deviation.
"""
import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from allennlp.commands.subcommand import Subcommand
from allennlp.training.callbacks import TrainerCallback

logger = logging.getLogger(__name__)

TASKS = (("NER", "ner"), ("RE", "rel"), ("RE strict", "rel_strict"))
FIGURES = ("precision", "recall", "f1")


class UnfinishedRuns(ValueError):
    """`--table-only` named runs that have not finished."""


@dataclass
class Run:
    config: str
    seed: int
    fold: Optional[int]

    @property
    def name(self) -> str:
        fold = f"fold {self.fold}, " if self.fold is not None else ""
        return f"{Path(self.config).stem} ({fold}seed {self.seed})"

    def directory(self, output_dir: Path) -> Path:
        folder = output_dir / Path(self.config).stem
        if self.fold is not None:
            folder = folder / f"fold_{self.fold}"
        return folder / f"seed_{self.seed}"


def plan_runs(configs: Sequence[str], seeds: Sequence[int], folds: Optional[Sequence[int]]) -> List[Run]:
    return [Run(c, s, f) for c in configs for f in (folds or [None]) for s in seeds]


# What `export_runs` keeps of a run: its resolved config (encoder, seed, epochs, data) and its
# metrics (per epoch and final); never the weights or the vocabulary.
EXPORTED_FILES = ("config.json", "metrics.json", "metrics_epoch_*.json")


def export_runs(runs: Sequence[Run], output_dir: Path, export_dir: Path) -> None:
    """
    Copies the config and metrics files of finished `runs` from `output_dir` into `export_dir`,
    in the same layout, so that a folder small enough to commit can rebuild the table
    (`--table-only -o EXPORT_DIR`) and the learning curves (`spert-plot`). Files of a run exported
    before are replaced, stale epoch files removed.
    """
    for run in runs:
        source, target = run.directory(output_dir), run.directory(export_dir)
        if finished_metrics(source) is None:
            raise UnfinishedRuns(f"--export: {run.name} in {source} has not finished")
        if target.exists():
            for old in target.glob("metrics_epoch_*.json"):
                old.unlink()
        target.mkdir(parents=True, exist_ok=True)
        for pattern in EXPORTED_FILES:
            for path in source.glob(pattern):
                shutil.copy2(path, target / path.name)


def finished_metrics(directory: Path) -> Optional[Dict[str, Any]]:
    """The run's final metrics if it finished and was tested, else `None`."""
    path = directory / "metrics.json"
    if not path.exists():
        return None
    metrics = json.loads(path.read_text())
    return metrics if "test_rel_f1" in metrics else None


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
    lines = []
    for config, entry in results["configs"].items():
        average = entry["average"]
        lines.append(f"### {config} ({average} averages, test set, in %)\n")
        header = "| run | " + " | ".join(f"{t} {n[0].upper()}" for t, _ in TASKS for n in FIGURES) + " |"
        lines += [header, "|" + "---|" * (1 + len(TASKS) * len(FIGURES))]
        for run in entry["runs"]:
            cells = [f"{100 * figure(run['metrics'], task, n, average):.2f}" for _, task in TASKS for n in FIGURES]
            lines.append(f"| {run['name']} | " + " | ".join(cells) + " |")
        summary = entry["summary"]
        cells = [
            f"{100 * summary[f'{task}_{n}']['mean']:.2f} ± {100 * summary[f'{task}_{n}']['std']:.2f}"
            for _, task in TASKS for n in FIGURES
        ]
        lines.append(f"| **mean ± std ({runs_phrase(len(entry['runs']))})** | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


# Which run is training, for the progress lines. Kept out of the run's config so that an
# interrupted run recovers with an identical config.
_progress = {"label": "", "runs_left_after": 0}


@TrainerCallback.register("spert_progress")
class ProgressCallback(TrainerCallback):
    """Prints one line per epoch: which run, which epoch, and the time left for the run and for all runs."""

    def __init__(self, serialization_dir: str, **kwargs) -> None:
        super().__init__(serialization_dir)
        self._start = time.time()

    def on_epoch(self, trainer, metrics: Dict[str, Any], epoch: int, is_primary: bool = True, **kwargs) -> None:
        if not is_primary or epoch < 0:
            return
        done = epoch + 1
        total = trainer._num_epochs
        per_epoch = (time.time() - self._start) / max(done - trainer._start_after_epochs_completed, 1)
        run_left = per_epoch * (total - done)
        all_left = run_left + per_epoch * total * _progress["runs_left_after"]
        print(
            f"[spert-experiments] {_progress['label']}: epoch {done}/{total} "
            f"({per_epoch / 60:.1f} min/epoch), run ETA {run_left / 60:.0f} min, all runs ETA {all_left / 60:.0f} min",
            file=sys.stderr,
            flush=True,
        )


def train_run(run: Run, directory: Path, epochs: Optional[int], label: str, runs_left_after: int) -> Dict[str, Any]:
    from allennlp.commands.train import train_model_from_file

    os.environ["SPERT_SEED"] = str(run.seed)
    if run.fold is not None:
        os.environ["SPERT_FOLD"] = str(run.fold)
    if epochs is not None:
        os.environ["SPERT_EPOCHS"] = str(epochs)
    _progress.update(label=label, runs_left_after=runs_left_after)
    overrides = {"trainer.callbacks": [{"type": "spert_progress"}]}
    recover = (directory / "config.json").exists()
    train_model_from_file(run.config, str(directory), json.dumps(overrides), recover=recover)
    metrics = finished_metrics(directory)
    if metrics is None:
        raise RuntimeError(f"{directory}: training ended without test metrics (does the config set test_data_path?)")
    return metrics


def run_experiments(
    configs: Sequence[str],
    seeds: Sequence[int],
    folds: Optional[Sequence[int]],
    output_dir: Path,
    epochs: Optional[int] = None,
    train: Callable[..., Dict[str, Any]] = train_run,
    results_name: str = "results",
    table_only: bool = False,
    export_dir: Optional[Path] = None,
) -> Dict[str, Any]:
    """
    Trains every run that has not finished yet, then writes `results_name`.json and .md into
    `output_dir`. With `table_only` nothing is trained: a run that has not finished is an error
    naming it (so that a table written while other processes still train their part of the runs
    cannot start a second training of the same run in the same folder). With `export_dir` the runs'
    configs and metrics are copied there (`export_runs`) and the table is written there as well.
    """
    runs = plan_runs(configs, seeds, folds)
    todo = [run for run in runs if finished_metrics(run.directory(output_dir)) is None]
    if table_only and todo:
        missing = ", ".join(f"{run.name} in {run.directory(output_dir)}" for run in todo)
        raise UnfinishedRuns(f"--table-only: {runs_phrase(len(todo))} not finished: {missing}")
    output_dir.mkdir(parents=True, exist_ok=True)
    print(f"[spert-experiments] {runs_phrase(len(runs))}, {len(runs) - len(todo)} already finished", file=sys.stderr, flush=True)
    for index, run in enumerate(todo):
        label = f"run {index + 1}/{len(todo)}: {run.name}"
        print(f"[spert-experiments] {label}: training", file=sys.stderr, flush=True)
        train(run, run.directory(output_dir), epochs, label, len(todo) - index - 1)

    results: Dict[str, Any] = {"epochs": epochs, "seeds": list(seeds), "folds": list(folds or []), "configs": {}}
    for config in configs:
        average = convention(config)
        config_runs = [
            {"name": run.name, "seed": run.seed, "fold": run.fold, "directory": str(run.directory(output_dir)),
             "metrics": finished_metrics(run.directory(output_dir))}
            for run in runs if run.config == config
        ]
        results["configs"][Path(config).stem] = {
            "config": config,
            "average": average,
            "runs": config_runs,
            "summary": aggregate(config_runs, average),
        }
    (output_dir / f"{results_name}.json").write_text(json.dumps(results, indent=2))
    (output_dir / f"{results_name}.md").write_text(markdown_table(results))
    if export_dir is not None and export_dir != output_dir:
        export_runs(runs, output_dir, export_dir)
        return run_experiments(configs, seeds, folds, export_dir, epochs, train, results_name, table_only=True)
    return results


@Subcommand.register("spert-experiments")
class Experiments(Subcommand):
    """`allennlp spert-experiments CONFIG... --seeds 1 2 3 [--folds 0 1 ...]`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Train and test configs over several seeds and/or ADE folds; finished runs are skipped and "
            "interrupted ones resumed. Writes OUTPUT_DIR/results.json and results.md (per run, and "
            "mean ± std of NER, RE and strict RE precision/recall/F1; micro averages, or macro for "
            "configs that select models by a macro metric such as ADE)."
        )
        subparser = parser.add_parser(self.name, description=description, help="Multi-seed / cross-validation experiments.")
        subparser.add_argument("configs", nargs="+", help="experiment configs (jsonnet)")
        subparser.add_argument("--seeds", nargs="+", type=int, default=[13], help="random seeds (default: 13)")
        subparser.add_argument("--folds", nargs="+", type=int, default=None, help="cross-validation folds (sets SPERT_FOLD)")
        subparser.add_argument("--epochs", type=int, default=None, help="epochs (sets SPERT_EPOCHS)")
        subparser.add_argument("-o", "--output-dir", required=True, help="folder for the runs and the results table")
        subparser.add_argument(
            "--results", default="results",
            help="name of the table files in OUTPUT_DIR (NAME.json, NAME.md), so that tables of different "
            "configs or seeds can share the runs' folder (default: results)",
        )
        subparser.add_argument(
            "--table-only", action="store_true",
            help="train nothing; write the table of the named runs, an error if one has not finished",
        )
        subparser.add_argument(
            "--export", default=None, metavar="DIR",
            help="also copy each run's config.json and metrics files (no weights) into DIR, same layout, and "
            "write the table there: a small folder to keep with the project, from which --table-only -o DIR "
            "and spert-plot work",
        )
        subparser.set_defaults(func=experiments_from_args)
        return subparser


def experiments_from_args(args: argparse.Namespace) -> None:
    try:
        results = run_experiments(
            args.configs, args.seeds, args.folds, Path(args.output_dir), args.epochs,
            results_name=args.results, table_only=args.table_only,
            export_dir=Path(args.export) if args.export else None,
        )
    except UnfinishedRuns as error:
        raise SystemExit(f"spert-experiments: {error}")
    print(markdown_table(results))

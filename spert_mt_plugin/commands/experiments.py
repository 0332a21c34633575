"""
`allennlp spert-experiments`: one or more configs over several seeds and/or cross-validation folds,
resumable, with one results table (JSON and Markdown) of every run, the mean and standard deviation,
and paired comparisons of two configs (`spert_mt_plugin.results`).
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.results.comparison import SAMPLES, compare, markdown_report, redecoded_metrics
from spert_mt_plugin.results.decoding import DECODINGS, decoding_note
from spert_mt_plugin.results.predictions import PREDICTIONS_FILE, has_gold_predictions, write_test_predictions
from spert_mt_plugin.results.runs import ResultsError, Run, UnfinishedRuns, export_runs, finished_metrics, plan_runs
from spert_mt_plugin.results.tables import aggregate, convention, runs_phrase


def run_settings(run: Run, epochs: Optional[int]) -> Dict[str, str]:
    """The run's external variables for its config: seed, fold and epochs (given, not set in the environment)."""
    settings = {"SPERT_SEED": str(run.seed)}
    if run.fold is not None:
        settings["SPERT_FOLD"] = str(run.fold)
    if epochs is not None:
        settings["SPERT_EPOCHS"] = str(epochs)
    return settings


def train_run(run: Run, directory: Path, epochs: Optional[int]) -> Dict[str, Any]:
    """Trains (or resumes) one run in `directory`; returns its metrics."""
    from allennlp.commands.train import train_model
    from allennlp.common import Params

    config = Params.from_file(run.config, ext_vars=run_settings(run, epochs)).as_dict(quiet=True)
    trainer = config["trainer"]
    # The label is the run's name, so that a resumed run's config equals the saved one.
    progress = {"type": "spert_progress", "label": run.name, "num_epochs": trainer["num_epochs"]}
    # Added to the config's callbacks, not in their place: they include the random generators'
    # states that make a resumed run exact.
    trainer["callbacks"] = (trainer.get("callbacks") or []) + [progress]
    train_model(Params(config), str(directory), recover=(directory / "config.json").exists())
    metrics = finished_metrics(directory)
    if metrics is None:
        raise RuntimeError(f"{directory}: training ended without test metrics (does the config set test_data_path?)")
    return metrics


def needs_training(directory: Path) -> bool:
    return finished_metrics(directory) is None


def complete_run(directory: Path) -> None:
    """
    A finished run whose model is still there gets its test predictions if it has none, or none
    with the gold annotation (a run stopped before they were written, or predicted by
    `allennlp predict`).
    """
    if (directory / "model.tar.gz").exists() and not has_gold_predictions(directory / PREDICTIONS_FILE):
        write_test_predictions(directory)


def train_missing(runs: List[Run], output_dir: Path, epochs: Optional[int], train: Callable[..., Any]) -> None:
    """Trains the runs that have not finished, printing one line per run and the time left for all."""
    todo = [run for run in runs if needs_training(run.directory(output_dir))]
    log(f"{runs_phrase(len(runs))}, {len(runs) - len(todo)} already finished")
    started = time.time()
    for index, run in enumerate(todo):
        log(f"run {index + 1}/{len(todo)}: {run.name}: training in {run.directory(output_dir)}")
        train(run, run.directory(output_dir), epochs)
        complete_run(run.directory(output_dir))
        left = len(todo) - index - 1
        if left:
            per_run = (time.time() - started) / (index + 1)
            log(f"{runs_phrase(left)} left, about {per_run * left / 60:.0f} min at this pace")


def log(message: str) -> None:
    print(f"[spert-experiments] {message}", file=sys.stderr, flush=True)


def config_key(config: str) -> str:
    return Path(config).stem


def comparison_pairs(configs: Sequence[str], compare_pairs: Optional[Sequence[Sequence[str]]]) -> List[Tuple[str, str]]:
    """The config names to compare: the pairs asked for, else the two configs of a two-config table."""
    names = [config_key(c) for c in configs]
    if compare_pairs:
        pairs = [(config_key(a), config_key(b)) for a, b in compare_pairs]
        unknown = sorted({name for pair in pairs for name in pair} - set(names))
        if unknown:
            raise ResultsError(f"--compare names configs that are not in the table: {', '.join(unknown)}")
        return pairs
    return [(names[0], names[1])] if len(names) == 2 else []


def run_experiments(
    configs: Sequence[str],
    seeds: Sequence[int],
    folds: Optional[Sequence[int]],
    output_dir: Path,
    epochs: Optional[int] = None,
    train: Callable[..., Any] = train_run,
    results_name: str = "results",
    table_only: bool = False,
    export_dir: Optional[Path] = None,
    compare_pairs: Optional[Sequence[Sequence[str]]] = None,
    samples: int = SAMPLES,
    decoding: str = "nested",
) -> Dict[str, Any]:
    """
    Trains every run that has not finished yet, then writes `results_name`.json and .md into
    `output_dir`: per config its runs and their mean ± std, and the paired comparisons
    (`compare_pairs`, or the two configs of a two-config table). With `table_only` nothing is
    trained: a run that has not finished is an error naming it (so that a table written while other
    processes still train their part of the runs cannot start a second training of the same run in
    the same folder). With `export_dir` the runs' configs, metrics and test predictions are copied
    there (`export_runs`) and the table is written there as well. With `decoding` "flat" the
    table's figures and comparisons are recomputed from the runs' kept test predictions decoded
    flat (`spert_mt_plugin.results.decoding`); "nested" takes the runs' metrics as they are.
    """
    if decoding not in DECODINGS:
        raise ResultsError(f"unknown decoding {decoding!r}: one of {', '.join(DECODINGS)}")
    runs = plan_runs(configs, seeds, folds)
    pairs = comparison_pairs(configs, compare_pairs)
    unfinished = [run for run in runs if needs_training(run.directory(output_dir))]
    if table_only and unfinished:
        missing = ", ".join(f"{run.name} in {run.directory(output_dir)}" for run in unfinished)
        raise UnfinishedRuns(f"--table-only: {runs_phrase(len(unfinished))} not finished: {missing}")
    output_dir.mkdir(parents=True, exist_ok=True)
    if not table_only:
        train_missing(runs, output_dir, epochs, train)
    for run in runs:
        complete_run(run.directory(output_dir))

    results: Dict[str, Any] = {"epochs": epochs, "seeds": list(seeds), "folds": list(folds or []), "configs": {}}
    for config in configs:
        config_runs = [
            {
                "name": run.name,
                "seed": run.seed,
                "fold": run.fold,
                "directory": str(run.directory(output_dir)),
                "metrics": finished_metrics(run.directory(output_dir)),
            }
            for run in runs
            if run.config == config
        ]
        if decoding != "nested":
            for entry in config_runs:
                entry["metrics"] = redecoded_metrics(entry, decoding)
        average = convention(config)
        results["configs"][config_key(config)] = {
            "config": config,
            "average": average,
            "runs": config_runs,
            "summary": aggregate(config_runs, average),
        }
    if decoding != "nested":
        # Only then: a table of the runs' metrics stays what it was before decodings existed.
        results["decoding"], results["decoding_note"] = decoding, decoding_note(decoding)
    results["comparisons"] = [
        compare(a, results["configs"][a], b, results["configs"][b], samples, decoding) for a, b in pairs
    ]
    write_text(output_dir / f"{results_name}.json", json.dumps(results, indent=2))
    write_text(output_dir / f"{results_name}.md", markdown_report(results))
    if export_dir is not None and export_dir != output_dir:
        export_runs(runs, output_dir, export_dir)
        return run_experiments(
            configs, seeds, folds, export_dir, epochs, train, results_name, True, None, compare_pairs, samples, decoding
        )
    return results


@Subcommand.register("spert-experiments")
class Experiments(Subcommand):
    """`allennlp spert-experiments CONFIG... --seeds 1 2 3 [--folds 0 1 ...]`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Train and test configs over several seeds and/or ADE folds; finished runs are skipped and "
            "interrupted ones resumed. Writes OUTPUT_DIR/results.json and results.md (per run, and "
            "mean ± std of NER, RE and strict RE precision/recall/F1; micro averages, or macro for "
            "configs that select models by a macro metric such as ADE), and for two configs a paired "
            "comparison: the mean difference over the runs of the same seed/fold with a 95 % CI, and an "
            "approximate randomization test over the test sentences (each run keeps its test predictions). "
            "Each run trains in OUTPUT_DIR/<config name>/seed_<seed> (OUTPUT_DIR/<config name>/fold_<fold>/seed_<seed> "
            "with --folds), the folders spert-plot and spert-sweep read. The configs read their data from "
            "SPERT_DATA_DIR (default: ./data) and their encoder from SPERT_ENCODER; --seeds, --folds and --epochs "
            "set SPERT_SEED, SPERT_FOLD and SPERT_EPOCHS for each run."
        )
        subparser = parser.add_parser(
            self.name, description=description, help="Multi-seed / cross-validation experiments."
        )
        subparser.add_argument("configs", nargs="+", help="experiment configs (jsonnet)")
        subparser.add_argument("--seeds", nargs="+", type=int, default=[13], help="random seeds")
        subparser.add_argument("--folds", nargs="+", type=int, default=None, help="cross-validation folds (SPERT_FOLD)")
        subparser.add_argument("--epochs", type=int, default=None, help="epochs (SPERT_EPOCHS)")
        subparser.add_argument("-o", "--output-dir", required=True, help="folder for the runs and the results table")
        subparser.add_argument(
            "--results",
            default="results",
            help="name of the table files in OUTPUT_DIR (NAME.json, NAME.md), so that tables of different "
            "configs or seeds can share the runs' folder",
        )
        subparser.add_argument(
            "--table-only",
            action="store_true",
            help="train nothing; write the table of the named runs, an error if one has not finished",
        )
        subparser.add_argument(
            "--export",
            default=None,
            metavar="DIR",
            help="also copy each run's config.json, metrics files and test predictions (no weights) into DIR, "
            "same layout, and write the table there: a small folder to keep with the project, from which "
            "--table-only -o DIR and spert-plot work",
        )
        subparser.add_argument(
            "--compare",
            nargs=2,
            action="append",
            metavar=("CONFIG_A", "CONFIG_B"),
            default=None,
            help="compare A with B over their runs of the same seeds/folds (repeatable; configs by path or name); "
            "a table of exactly two configs compares them without it",
        )
        subparser.add_argument(
            "--samples",
            type=int,
            default=SAMPLES,
            help="shuffles of the approximate randomization test",
        )
        subparser.add_argument(
            "--decoding",
            choices=DECODINGS,
            default="nested",
            help="nested (default): the runs' test figures as they were tested; flat: every figure and comparison "
            "recomputed from the runs' kept test predictions with flat entity decoding applied afterwards (the "
            "best-scoring entities that share no word; relations of a dropped entity dropped), which gives exactly "
            "what the models decoding flat predict",
        )
        subparser.set_defaults(func=experiments_from_args)
        return subparser


def experiments_from_args(args: argparse.Namespace) -> None:
    try:
        results = run_experiments(
            args.configs,
            args.seeds,
            args.folds,
            Path(args.output_dir),
            args.epochs,
            results_name=args.results,
            table_only=args.table_only,
            export_dir=Path(args.export) if args.export else None,
            compare_pairs=args.compare,
            samples=args.samples,
            decoding=args.decoding,
        )
    except ResultsError as error:
        raise SystemExit(f"spert-experiments: {error}")
    print(markdown_report(results))

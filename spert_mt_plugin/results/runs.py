"""The runs of an experiment: one config, seed and (for cross-validation) fold each, one folder each."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spert_mt_plugin.formats.atomic import copy_file


class ResultsError(ValueError):
    """Runs, predictions or a comparison that cannot make a table; the message says which and why."""


class UnfinishedRuns(ResultsError):
    """A table or an export named runs that have not finished."""


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
        """`OUTPUT_DIR/<config name>[/fold_F]/seed_S`."""
        folder = output_dir / Path(self.config).stem
        if self.fold is not None:
            folder = folder / f"fold_{self.fold}"
        return folder / f"seed_{self.seed}"


def plan_runs(configs: Sequence[str], seeds: Sequence[int], folds: Optional[Sequence[int]]) -> List[Run]:
    return [Run(c, s, f) for c in configs for f in (folds or [None]) for s in seeds]


def finished_metrics(directory: Path) -> Optional[Dict[str, Any]]:
    """The run's final metrics if it finished and was tested, else `None`."""
    path = directory / "metrics.json"
    if not path.exists():
        return None
    metrics = json.loads(path.read_text())
    return metrics if "test_rel_f1" in metrics else None


# A run's test predictions (`spert_mt_plugin.results.predictions`).
PREDICTIONS_FILE = "test_predictions.jsonl.gz"

# What `export_runs` keeps of a run: its resolved config (encoder, seed, epochs, data), its
# metrics (per epoch and final) and its test predictions; never the weights or the vocabulary.
EXPORTED_FILES = ("config.json", "metrics.json", "metrics_epoch_*.json", PREDICTIONS_FILE)


def export_runs(runs: Sequence[Run], output_dir: Path, export_dir: Path) -> None:
    """
    Copies the config, metrics and test predictions of finished `runs` from `output_dir` into
    `export_dir`, in the same layout, so that a folder small enough to commit can rebuild the table
    and its comparisons (`--table-only -o EXPORT_DIR`) and the learning curves (`spert-plot`).
    Files of a run exported before are replaced, each atomically, and then stale epoch files
    removed, so that an export stopped midway leaves every file whole, old or new.
    """
    for run in runs:
        source, target = run.directory(output_dir), run.directory(export_dir)
        if finished_metrics(source) is None:
            raise UnfinishedRuns(f"--export: {run.name} in {source} has not finished")
        target.mkdir(parents=True, exist_ok=True)
        exported = set()
        for pattern in EXPORTED_FILES:
            for path in source.glob(pattern):
                copy_file(path, target / path.name)
                exported.add(path.name)
        for old in target.glob("metrics_epoch_*.json"):
            if old.name not in exported:
                old.unlink()

"""
Retraining on a Label Studio project's annotations, in the background of a running service.

One round (`Retraining.start`): the annotated tasks (sent with the request, or exported from
Label Studio's API) are split into a training part and a held-out slice (every k-th task by id);
`allennlp train` runs in a child process on the user's experiment config with its data replaced by
the training part, read by the `label_studio` reader (fine-tuning the current archive with
`fine_tune`, else from scratch); then the new and the current model are evaluated on the held-out
slice by the config's validation metric (`+rel_f1` by default), and the new model becomes the
current one (`ModelSlot.switch`) when it scores at least as well. The current model answers all
along. The state of the round is in `training.json` of the work folder: `running`, then
`switched`, `kept` (the new model scored lower) or `failed` with the reason in one line; the
round's files are in `runs/NNN/`. One round runs at a time, across the server's workers (a lock
file).
"""

import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.formats.label_studio_config import TagMapping
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.service.annotated_tasks import TrainingError, annotated, export_tasks, held_out_split
from spert_mt_plugin.service.model_slot import ModelSlot, archive_version

logger = logging.getLogger(__name__)

STATE = "training.json"
DEFAULT_METRIC = "+rel_f1"


class TrainingBusy(TrainingError):
    """A round is already running."""


@dataclass
class TrainingSettings:
    """What a round trains from: the user's experiment config and how to get the annotations."""

    config: str
    fine_tune: bool = False
    held_out_every: int = 5
    label_studio_url: Optional[str] = None
    api_key: Optional[str] = None


def model_types(vocab: Any) -> EntityRelationTypes:
    """The entity and relation types of a model's vocabulary."""
    entities = [t for t in vocab.get_token_to_index_vocabulary(ENTITY_LABELS) if t != NO_ENTITY]
    return EntityRelationTypes(entities, list(vocab.get_token_to_index_vocabulary(RELATION_LABELS)))


def label_studio_reader(reader: Dict[str, Any], data_key: str, types_file: str) -> Dict[str, Any]:
    """The `label_studio` reader with the tokenisation of `reader` (a config's dataset_reader)."""
    params = {"type": "label_studio", "data_key": data_key, "types_file": types_file}
    for key in ("token_indexers", "max_span_width", "language"):
        if key in reader:
            params[key] = reader[key]
    return params


def training_config(
    config: Dict[str, Any], train_path: str, data_key: str, types_file: str, fine_tune_from: Optional[str]
) -> Dict[str, Any]:
    """The user's experiment `config` trained on `train_path` (Label Studio tasks) with no validation or test data."""
    config = dict(config)
    config["dataset_reader"] = label_studio_reader(config["dataset_reader"], data_key, types_file)
    config.pop("validation_dataset_reader", None)
    config["train_data_path"] = train_path
    for key in ("validation_data_path", "test_data_path"):
        config.pop(key, None)
    config["evaluate_on_test"] = False
    if fine_tune_from is not None:
        config["model"] = {"type": "from_archive", "archive_file": fine_tune_from}
    return config


def held_out_metrics(archive: str, path: str, data_key: str, types_file: str) -> Dict[str, float]:
    """The metrics of the model `archive` on the Label Studio tasks of `path`."""
    from allennlp.common import Params
    from allennlp.data import DatasetReader
    from allennlp.data.data_loaders import SimpleDataLoader
    from allennlp.training.util import evaluate

    from spert_mt_plugin.archives import load_archive

    loaded = load_archive(archive)
    reader_params = label_studio_reader(loaded.config["dataset_reader"].as_dict(quiet=True), data_key, types_file)
    reader = DatasetReader.from_params(Params(reader_params))
    loader = SimpleDataLoader.from_dataset_reader(reader, path, batch_size=8, quiet=True)
    loader.index_with(loaded.model.vocab)
    return evaluate(loaded.model, loader, cuda_device=-1)


def metric_of(config: Dict[str, Any]) -> Tuple[str, bool]:
    """The config's validation metric: its name and whether higher is better."""
    metric = (config.get("trainer") or {}).get("validation_metric") or DEFAULT_METRIC
    if isinstance(metric, list):
        metric = metric[0]
    return metric.lstrip("+-"), not metric.startswith("-")


class Retraining:
    """Rounds of retraining for the model in `slot`, in `slot.work_dir`."""

    def __init__(self, settings: TrainingSettings, slot: ModelSlot) -> None:
        self.settings = settings
        self.slot = slot
        self.work_dir = slot.work_dir

    @property
    def state_path(self) -> Path:
        return self.work_dir / STATE

    def status(self) -> Dict[str, Any]:
        """The last round's state (`{"state": "none"}` before the first)."""
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {"state": "none"}

    def start(self, mapping: TagMapping, tasks: Optional[List[Any]] = None, project: Any = None) -> Dict[str, Any]:
        """
        Starts a round in a background thread on `tasks` (a Label Studio export), or on project
        `project`'s annotations exported from Label Studio; returns its first state. Raises
        `TrainingBusy` while a round runs, `TrainingError` when it cannot start.
        """
        if tasks is not None:
            held_out_split(annotated(tasks), self.settings.held_out_every)
        else:
            if project is None:
                raise TrainingError("send the annotations (a Label Studio JSON export) or the project's id")
            if not (self.settings.label_studio_url and self.settings.api_key):
                raise TrainingError(
                    "exporting the annotations needs Label Studio's URL and an API key: start the backend with "
                    "--label-studio-url and LABEL_STUDIO_API_KEY, or send the export to POST /train"
                )
        lock = open(self.work_dir / "training.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise TrainingBusy(f"a training round is already running ({self.status().get('run', '')})") from None
        runs = self.work_dir / "runs"
        runs.mkdir(exist_ok=True)
        run_dir = runs / f"{len(list(runs.iterdir())) + 1:03d}"
        run_dir.mkdir()
        state = {"state": "running", "run": str(run_dir), "started": time.time(), "model_version": self._version()}
        self._write(state)
        threading.Thread(target=self._round, args=(lock, state, mapping, tasks, project), daemon=True).start()
        return state

    def _version(self) -> str:
        return self.slot.get()[1]

    def _write(self, state: Dict[str, Any]) -> None:
        write_text(self.state_path, json.dumps(state, indent=1))

    def _round(self, lock, state: Dict[str, Any], mapping: TagMapping, tasks, project) -> None:
        try:
            state.update(self._train_and_compare(Path(state["run"]), mapping, tasks, project))
        except TrainingError as error:
            state.update(state="failed", reason=str(error))
        except Exception as error:
            logger.exception("training round %s failed", state["run"])
            state.update(state="failed", reason=f"{type(error).__name__}: {error}")
        finally:
            state["finished"] = time.time()
            state["model_version"] = self._version()
            self._write(state)
            logger.info("training round %s: %s", state["run"], state.get("reason") or state["state"])
            lock.close()

    def _train_and_compare(self, run_dir: Path, mapping: TagMapping, tasks, project) -> Dict[str, Any]:
        from allennlp.common import Params

        if tasks is None:
            tasks = export_tasks(self.settings.label_studio_url, self.settings.api_key, project)
        training, held_out = held_out_split(annotated(tasks), self.settings.held_out_every)
        for name, part in (("train.json", training), ("held_out.json", held_out)):
            write_text(run_dir / name, json.dumps(part, ensure_ascii=False))
        current = self.slot.archive
        types_file = str(run_dir / "types.json")
        write_text(types_file, json.dumps(model_types(self.slot.get()[0].model.vocab).to_json(), indent=1))
        try:
            config = Params.from_file(self.settings.config).as_dict(quiet=True)
        except Exception as error:
            raise TrainingError(f"{self.settings.config}: cannot read the config ({error})") from None
        fine_tune_from = current if self.settings.fine_tune else None
        config = training_config(config, str(run_dir / "train.json"), mapping.data_key, types_file, fine_tune_from)
        write_text(run_dir / "config.json", json.dumps(config, indent=1))
        self._train(run_dir)
        archive = str(run_dir / "model" / "model.tar.gz")
        metric, higher = metric_of(config)
        new = held_out_metrics(archive, str(run_dir / "held_out.json"), mapping.data_key, types_file)
        old = held_out_metrics(current, str(run_dir / "held_out.json"), mapping.data_key, types_file)
        if metric not in new:
            raise TrainingError(f"the validation metric {metric!r} is not among the model's metrics ({', '.join(new)})")
        scores = {"metric": metric, "new": new[metric], "current": old[metric], "held_out_tasks": len(held_out)}
        better_or_equal = new[metric] >= old[metric] if higher else new[metric] <= old[metric]
        if not better_or_equal:
            reason = f"held-out {metric} {new[metric]:.4f} of the new model is worse than {old[metric]:.4f}"
            return {"state": "kept", "reason": reason, **scores}
        self.slot.switch(archive, archive_version(archive))
        return {"state": "switched", **scores}

    def _train(self, run_dir: Path) -> None:
        log = run_dir / "train.log"
        command = [
            sys.executable,
            "-m",
            "allennlp",
            "train",
            str(run_dir / "config.json"),
            "-s",
            str(run_dir / "model"),
        ]
        command += ["--include-package", "spert_mt_plugin"]
        with open(log, "w") as output:
            # Its own process group: a server that stops takes the training down with it (`stop_training`).
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
            _children.add(process)
            try:
                code = process.wait()
            finally:
                _children.discard(process)
        if code != 0:
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            # The command's one-line error (cli_errors) comes before its hint about tracebacks.
            errors = [line for line in lines if ": error: " in line] or lines[-1:] or ["no output"]
            raise TrainingError(f"allennlp train exited with {code}: {errors[-1]} ({log})")


# The training processes this process started and waits on.
_children: set = set()


def stop_training() -> None:
    """Stops the training processes this process started (a server that stops calls it)."""
    for process in list(_children):
        try:
            os.killpg(process.pid, 15)
        except ProcessLookupError:
            pass

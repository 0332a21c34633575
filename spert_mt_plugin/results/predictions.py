"""
A run's test predictions, kept beside its metrics (`test_predictions.jsonl.gz`) so that two configs
can be compared sentence by sentence. One SpERT JSON object per test sentence, in the test file's
order: the predicted `entities` and `relations` (as `allennlp predict` writes them) and the
sentence's `gold` annotation; relations of a symmetric type carry `"symmetric": true`, so that the
file can be scored without the types file. Gzipped (about a sixth of the size: results/ keeps one
per run) with no timestamp, so that the same predictions give the same bytes.
"""

import gzip
import io
import json
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional

from spert_mt_plugin.formats.atomic import atomic_open
from spert_mt_plugin.results.runs import PREDICTIONS_FILE, ResultsError


def write_test_predictions(directory: Path, test_data_path: Optional[str] = None, batch_size: int = 8) -> Path:
    """
    Predicts the test set of the run in `directory` with its `model.tar.gz` (the kept epoch) and
    writes `directory/test_predictions.jsonl.gz`, replacing the file only once it is complete.
    `test_data_path` defaults to the run's config's.
    """
    from allennlp.predictors import Predictor

    from spert_mt_plugin.archives import load_archive
    from spert_mt_plugin.vocabulary import symmetric_relations

    archive = load_archive(directory / "model.tar.gz")
    if not archive.model.records_nesting:
        # Saved before the model recorded nesting: its run was evaluated with nested decoding, and
        # the kept predictions must give the run's metrics.
        archive.model.entity_decoding = "nested"
    test_data_path = test_data_path or archive.config["test_data_path"]
    # The tables' predictions are float32, whatever mode the machine would predict with by default.
    predictor = Predictor.from_archive(archive, "spert_mt", extra_args={"precision": "float32"})
    symmetric = set(symmetric_relations(archive.model.vocab))
    instances = list(archive.validation_dataset_reader.read(test_data_path))
    target = directory / PREDICTIONS_FILE
    with atomic_open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        output = io.TextIOWrapper(packed, encoding="utf-8")
        for start in range(0, len(instances), batch_size):
            batch = instances[start : start + batch_size]
            for instance, predicted in zip(batch, predictor.predict_batch_instance(batch)):
                line = with_gold(predicted, instance["metadata"].metadata, symmetric)
                output.write(json.dumps(line, ensure_ascii=False) + "\n")
        output.flush()
        output.detach()
    return target


def with_gold(predicted: Dict[str, Any], metadata: Dict[str, Any], symmetric: set) -> Dict[str, Any]:
    """`predicted` (SpERT JSON) with the sentence's gold annotation and the symmetric relations marked."""
    gold = {
        "entities": [{"start": start, "end": end, "type": label} for start, end, label in metadata["entities"]],
        "relations": [{"head": head, "tail": tail, "type": label} for head, tail, label in metadata["relations"]],
    }
    line = dict(predicted, gold=gold)
    for relation in line["relations"] + gold["relations"]:
        if relation["type"] in symmetric:
            relation["symmetric"] = True
    return line


def has_gold_predictions(path: Path) -> bool:
    """Whether `path` exists and holds predictions with the gold annotation (judged by its first line)."""
    if not path.exists():
        return False
    try:
        with open_lines(path) as lines:
            return "gold" in json.loads(lines.readline())
    except (OSError, EOFError, json.JSONDecodeError):
        return False


def open_lines(path: Path) -> IO[str]:
    """A predictions file for reading lines, gzipped (`.gz`) or not."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_predictions(path: Path) -> List[Dict[str, Any]]:
    """The lines of a predictions file; an error naming the file and line if one is not scorable."""
    return list(_lines(path))


def _lines(path: Path) -> Iterator[Dict[str, Any]]:
    with open_lines(path) as lines:
        for number, text in enumerate(lines, start=1):
            try:
                line = json.loads(text)
            except json.JSONDecodeError as error:
                raise ResultsError(f"{path}, line {number}: not JSON ({error.msg})") from None
            missing = [key for key in ("tokens", "entities", "relations", "gold") if key not in line]
            if missing:
                raise ResultsError(
                    f"{path}, line {number}: no {', '.join(missing)} (written by write_test_predictions?)"
                )
            yield line

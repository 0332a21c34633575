"""
The output folder of a corpus prediction job: one file per shard (`corpus.sharding`), in input
order, and what is done.

A shard is done once its output file exists: it is written to a temporary name and renamed when
complete (`formats.atomic`). The job's description (`_job.json`: archive, inputs, settings) is
written first, so that starting the same command again predicts only the shards not done, and
starting another job into the same folder is refused rather than mixing two jobs' shards.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from spert_mt_plugin.corpus.sharding import CorpusError, Shard
from spert_mt_plugin.formats.atomic import atomic_open, write_text

OUTPUT_FORMATS = ("jsonl", "parquet")
JOB_FILE = "_job.json"
SUMMARY_FILE = "_summary.json"


@dataclass
class OutputRow:
    """One output row: the prediction as one line of JSON, or the error that kept the input row from one."""

    position: int
    prediction: Optional[str]
    error: Optional[str]


class ShardWriter:
    """
    The output folder of a job: its description, the shards done, and writing a shard's rows.

    # Parameters

    folder : `str`
        Made if missing.
    output_format : `str`
        `jsonl`: a line per row, the prediction's JSON as `allennlp predict` writes it, or for a
        row that failed `{"error": ..., "input_file": ..., "input_line" (or "input_row"): ...}`;
        `parquet`: columns `input_file`, `input_row`, `prediction` (its JSON, null on error)
        and `error` (null when predicted).
    """

    def __init__(self, folder: str, output_format: str) -> None:
        if output_format not in OUTPUT_FORMATS:
            raise CorpusError(f"unknown output format {output_format!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
        self.folder = Path(folder)
        self.output_format = output_format

    def part(self, shard: Shard) -> Path:
        """The output file of `shard`."""
        return self.folder / f"part-{shard.index:05d}.{self.output_format}"

    def is_done(self, shard: Shard) -> bool:
        return self.part(shard).exists()

    def claim(self, job: Dict[str, Any]) -> None:
        """
        Makes the folder this job's: writes `job` (a JSON-able description) there, or checks that
        the folder's is the same, so that a restart goes on with the same shards.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / JOB_FILE
        if path.exists():
            earlier = json.loads(path.read_text())
            differences = sorted(key for key in set(job) | set(earlier) if job.get(key) != earlier.get(key))
            if differences:
                raise CorpusError(
                    f"{self.folder} holds the output of another job (its {', '.join(differences)} differ): "
                    "give a new output folder, or delete this one to start again"
                )
            return
        write_text(path, json.dumps(job, indent=2) + "\n")

    def write(self, shard: Shard, rows: List[OutputRow]) -> None:
        """Writes the rows of `shard` (any order: they are sorted by position), then marks it done."""
        if len(rows) != shard.rows:
            raise RuntimeError(f"shard {shard.index} has {shard.rows} rows, got {len(rows)} predictions")
        rows = sorted(rows, key=lambda row: row.position)
        unit = "input_line" if shard.kind == "jsonl" else "input_row"
        if self.output_format == "jsonl":
            lines = []
            for row in rows:
                if row.error is None:
                    lines.append(row.prediction)
                else:
                    failed = {"error": row.error, "input_file": shard.path, unit: row.position}
                    lines.append(json.dumps(failed, ensure_ascii=False))
            write_text(self.part(shard), "".join(line + "\n" for line in lines))  # type: ignore[operator]
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table(
                {
                    "input_file": [shard.path] * len(rows),
                    "input_row": pa.array([row.position for row in rows], type=pa.int64()),
                    "prediction": pa.array([row.prediction for row in rows], type=pa.string()),
                    "error": pa.array([row.error for row in rows], type=pa.string()),
                }
            )
            with atomic_open(self.part(shard), "wb") as handle:
                pq.write_table(table, handle)

    def write_summary(self, summary: Dict[str, Any]) -> None:
        write_text(self.folder / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")


def file_fingerprints(files: Sequence[Tuple[str, str]]) -> List[List[Any]]:
    """Path, size and modification time of each input file: a changed input is another job."""
    fingerprints = []
    for path, _ in files:
        status = os.stat(path)
        fingerprints.append([os.path.abspath(path), status.st_size, int(status.st_mtime)])
    return fingerprints

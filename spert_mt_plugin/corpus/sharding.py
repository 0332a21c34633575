"""
The files of a corpus prediction job, cut into shards: what to read, where it is, and what is done.

A job reads JSON Lines or Parquet files and writes one output file per shard, `part-00000.jsonl`
(or `.parquet`), holding one row per input row of the shard, in input order. A shard is a run of
at most `rows_per_shard` rows of one input file: a byte range of a JSON Lines file, whole row
groups of a Parquet file. Planning reads the inputs once, on the driver, to find those cuts; a
shard is then read by seeking to its range, so that any worker reads only its own rows.

What is done, and the output files, are `corpus.shard_writer`'s.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

JSON_LINES_SUFFIXES = (".jsonl", ".json")
PARQUET_SUFFIXES = (".parquet",)


class CorpusError(ValueError):
    """A corpus job that cannot run as asked; the message names the file or setting and says why."""


# (start, stop, first row, rows) of a piece of a shard, in the shard's units (bytes or row groups).
Piece = Tuple[int, int, int, int]


@dataclass(frozen=True)
class Shard:
    """
    Rows `first_row ...` of one input file: for JSON Lines the bytes `[start, stop)`, whose first
    line is line `first_row` (1-based, as editors count); for Parquet the row groups
    `[start, stop)`, whose first row is row `first_row` (0-based, as pyarrow counts). `rows`
    counts the rows that give an output row (blank lines give none, as in `allennlp predict`);
    `pieces` cut the same range into the parts read one at a time.
    """

    index: int
    path: str
    kind: str
    start: int
    stop: int
    first_row: int
    rows: int
    pieces: Tuple[Piece, ...] = ()

    def piece_shards(self) -> List["Shard"]:
        """Each piece as a `Shard` of its own rows (same number): what one read reads."""
        return [
            Shard(self.index, self.path, self.kind, *piece)
            for piece in self.pieces or [(self.start, self.stop, self.first_row, self.rows)]
        ]

    def where(self, position: int) -> str:
        """How an error names the input row at `position`: `file.jsonl, line 12` or `file.parquet, row 11`."""
        unit = "line" if self.kind == "jsonl" else "row"
        return f"{self.path}, {unit} {position}"


def input_files(inputs: Sequence[str]) -> List[Tuple[str, str]]:
    """
    `(path, kind)` of every input file: files as given, folders expanded to the JSON Lines
    (`.jsonl`, `.json`) and Parquet files under them, in sorted order; `kind` is `jsonl` or
    `parquet`, from the name.
    """
    files: List[Tuple[str, str]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p) is not None)
            if not found:
                raise CorpusError(f"{item}: no .jsonl, .json or .parquet files in this folder")
            files.extend((str(p), _kind(p)) for p in found)  # type: ignore[misc]
        elif path.is_file():
            kind = _kind(path)
            if kind is None:
                raise CorpusError(f"{item}: not a JSON Lines (.jsonl, .json) or Parquet (.parquet) file")
            files.append((str(path), kind))
        else:
            raise CorpusError(f"{item}: no such file or folder")
    return files


def _kind(path: Path) -> Optional[str]:
    if path.suffix in JSON_LINES_SUFFIXES:
        return "jsonl"
    if path.suffix in PARQUET_SUFFIXES:
        return "parquet"
    return None


def plan_shards(
    files: Sequence[Tuple[str, str]], rows_per_shard: int, rows_per_piece: Optional[int] = None
) -> List[Shard]:
    """
    The shards of `files` (from `input_files`), numbered in input order, each cut into `pieces`
    of at most `rows_per_piece` rows (JSON Lines) or of one row group (Parquet): the blocks that
    actors take one at a time, so that all actors share a shard.
    """
    if rows_per_shard < 1:
        raise CorpusError(f"rows_per_shard must be at least 1, got {rows_per_shard}")
    per_piece = rows_per_piece or rows_per_shard
    shards: List[Shard] = []
    for path, kind in files:
        cuts = (
            _json_lines_cuts(path, rows_per_shard, per_piece)
            if kind == "jsonl"
            else _parquet_cuts(path, rows_per_shard)
        )
        for pieces in cuts:
            start, first_row = pieces[0][0], pieces[0][2]
            rows = sum(piece[3] for piece in pieces)
            shards.append(Shard(len(shards), path, kind, start, pieces[-1][1], first_row, rows, tuple(pieces)))
    return shards


def _json_lines_cuts(path: str, rows_per_shard: int, rows_per_piece: int) -> Iterator[List[Piece]]:
    pieces: List[Piece] = []
    start = offset = piece_rows = shard_rows = 0
    first_line = line_number = 1
    with open(path, "rb") as lines:
        for line in lines:
            offset += len(line)
            line_number += 1
            if line.isspace():
                continue
            piece_rows += 1
            shard_rows += 1
            if piece_rows == rows_per_piece or shard_rows == rows_per_shard:
                pieces.append((start, offset, first_line, piece_rows))
                start, first_line, piece_rows = offset, line_number, 0
            if shard_rows == rows_per_shard:
                yield pieces
                pieces, shard_rows = [], 0
    if piece_rows:
        pieces.append((start, offset, first_line, piece_rows))
    if pieces:
        yield pieces


def _parquet_cuts(path: str, rows_per_shard: int) -> Iterator[List[Piece]]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as error:
        raise CorpusError(f"{path}: not a readable Parquet file ({error})") from None
    pieces: List[Piece] = []
    first_row = rows = 0
    for group in range(metadata.num_row_groups):
        count = metadata.row_group(group).num_rows
        pieces.append((group, group + 1, first_row, count))
        first_row += count
        rows += count
        if rows >= rows_per_shard:
            yield pieces
            pieces, rows = [], 0
    if pieces:
        yield pieces


def read_shard(shard: Shard) -> Iterator[Tuple[int, Optional[str], Optional[str]]]:
    """
    `(position, text, problem)` of each row of `shard`, in order: the row as one line of JSON, or
    `None` and why it cannot be read (a line that is not UTF-8). Parquet rows become JSON objects
    of their non-null columns, so that `tokens`, `sentence` and `document` columns side by side
    give each row the one it has.
    """
    if shard.kind == "jsonl":
        with open(shard.path, "rb") as lines:
            lines.seek(shard.start)
            chunk = lines.read(shard.stop - shard.start)
        # Lines end at b"\n" only, as in planning (bytes.splitlines would also cut at a bare b"\r").
        for number, line in enumerate(chunk.split(b"\n"), start=shard.first_row):
            if not line or line.isspace():
                continue
            try:
                yield number, line.decode("utf-8"), None
            except UnicodeDecodeError as error:
                yield number, None, f"not valid UTF-8 (byte {error.start})"
    else:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(shard.path).read_row_groups(range(shard.start, shard.stop))
        for number, row in enumerate(table.to_pylist(), start=shard.first_row):
            values = {key: value for key, value in row.items() if value is not None}
            yield number, json.dumps(values, ensure_ascii=False), None


def shard_record(shard: Shard) -> Dict[str, Any]:
    """`shard` as a plain dict (a row of the job's first dataset)."""
    return asdict(shard)

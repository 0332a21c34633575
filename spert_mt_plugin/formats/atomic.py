"""
Atomic writes: a file that a later command reads is either the old one or the new one, never part of one.

Everything the package writes for a later command to read (converted data, test predictions,
results tables, exported runs, plots) goes through `atomic_open` or a function built on it: the
data go into a hidden temporary file in the target's folder (`.NAME.XXXXXXXX.partial`), which is
flushed and fsynced, then renamed over the target with `os.replace`. A rename within one file
system is atomic, so a process killed at any moment leaves the target as it was or complete; a
writer that raises removes its temporary file and leaves the target as it was. What a kill can
leave is the hidden temporary file itself, which no reader of the package looks at.

Standard library only: `formats/` is the package's lowest layer and `results/` builds on it.
"""

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

PARTIAL_SUFFIX = ".partial"


def partial_path(target: Path) -> Path:
    """A fresh hidden name beside `target`: two writers of one target never share a temporary file."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")


def _new_file_mode(target: Path) -> int:
    # A replaced file keeps its mode; a new one gets what open() would give it (0o666 less the
    # umask, applied by os.open), not the 0o600 of tempfile's files.
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself survive a power cut, not only a kill; not every system can open a
    # folder for it, and the write is complete without it.
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextmanager
def atomic_open(
    path: PathLike, mode: str = "w", encoding: Optional[str] = "utf-8", newline: Optional[str] = None
) -> Iterator[IO]:
    """
    `open(path, mode)` whose data replace `path` only when the block ends without an error (see the
    module). `mode` is "w" (text, `encoding`) or "wb". The target's folder is created if missing.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _new_file_mode(target))
    if mode == "wb":
        handle = os.fdopen(descriptor, "wb")
    else:
        handle = os.fdopen(descriptor, "w", encoding=encoding, newline=newline)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        # KeyboardInterrupt and SystemExit too: an interrupted write leaves the old file alone.
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


def write_text(path: PathLike, text: str, encoding: str = "utf-8") -> None:
    """`Path(path).write_text(text)`, atomically."""
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)


def write_bytes(path: PathLike, data: bytes) -> None:
    """`Path(path).write_bytes(data)`, atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def copy_file(source: PathLike, target: PathLike) -> None:
    """`shutil.copy2(source, target)` for a file target, atomically (contents, then times and mode)."""
    with open(source, "rb") as original, atomic_open(target, "wb") as copy:
        shutil.copyfileobj(original, copy)
    shutil.copystat(source, target)


def write_json(documents: List[Dict[str, Any]], path: str, lines: bool = False) -> None:
    """Writes `documents` as a JSON array (or JSON Lines), replacing `path` only once complete."""
    with atomic_open(path) as handle:
        if lines:
            for document in documents:
                handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        else:
            json.dump(documents, handle, ensure_ascii=False)

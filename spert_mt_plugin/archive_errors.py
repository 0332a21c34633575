"""
Why a model archive (`model.tar.gz`) or a training checkpoint cannot be loaded, in one line that
names the file.

AllenNLP's `load_archive` fails on a bad archive with whatever the layer below it raised: a gzip
`EOFError` for a truncated file, `tarfile.ReadError` for a file that is not a tar.gz, a
`FileNotFoundError` naming a temporary folder for an archive without `config.json`, a registry
error for a model of another plugin, torch's many-line `load_state_dict` report for weights saved
by another version of the model. `explain` turns each of these into an `ArchiveError` naming the
archive (the package's own loaders, `archives`, raise it), and `explain_traceback` does the same
for the `allennlp` command's error hook (`cli_errors`), for `allennlp evaluate`, `predict` and
`train --recover`, whose loading AllenNLP does. Any other error is left as it is.
"""

import gzip
import os
import pickle
import re
import tarfile
import tempfile
import traceback as tracebacks
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator, Optional, Tuple, Union

from allennlp.common.checks import ConfigurationError

ArchivePath = Union[str, "os.PathLike[str]"]

# What `allennlp train` puts into a model archive.
MEMBERS = "config.json, weights.th and vocabulary/"
_WEIGHTS_NAMES = ("weights.th", "best.th")
_NOT_FOUND = re.compile(r"^file (.+) not found$")
_NOT_REGISTERED = re.compile(r"^'?([^' ]+)'? is not a registered name for '?(\w+)'?")
_NOT_A_CHOICE = re.compile(r"^(\S+) not in acceptable choices for ([\w.]+)")
_STATE_DICT = ("Error(s) in loading state_dict", "Error loading state dict")
_STATE_DICT_OF = re.compile(r"^Error(?:\(s\))? (?:in )?loading state[_ ]dict for (\w+)")
SPERT_MT_CLASS = "SpertMT"
SPERT_MT_TYPE = "spert_mt"


class ArchiveError(ConfigurationError):
    """A model archive or checkpoint that cannot be loaded; the message names the file and says why."""


def _first_line(error: BaseException, limit: int = 160) -> str:
    lines = str(error).strip().splitlines()
    line = " ".join(lines[0].split()) if lines else type(error).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _frames(traceback: Optional[TracebackType]) -> Iterator[Any]:
    for frame, _ in tracebacks.walk_tb(traceback):
        yield frame


def _in_function(frame: Any, module_path: str, function: str) -> bool:
    code = frame.f_code
    return code.co_name == function and Path(code.co_filename).as_posix().endswith(module_path)


def _torch_load_file(traceback: Optional[TracebackType]) -> Optional[str]:
    """The file a failed `torch.load` in `traceback` was reading, if it was given a path."""
    for frame in _frames(traceback):
        if _in_function(frame, "torch/serialization.py", "load"):
            source = frame.f_locals.get("f")
            if isinstance(source, (str, os.PathLike)):
                return os.fspath(source)
    return None


def missing_path(error: FileNotFoundError) -> Optional[str]:
    """The file a `FileNotFoundError` names: its `filename`, or the path in cached_path's "file X not found"."""
    if error.filename:
        return os.fspath(error.filename)
    match = _NOT_FOUND.match(str(error))
    return match.group(1) if match else None


def _in_temporary_folder(path: str) -> bool:
    return Path(path).resolve().parent.parent == Path(tempfile.gettempdir()).resolve()


def torch_load_problem(error: BaseException) -> str:
    """Why `torch.load` failed, in a few words: torch's own first line can be a paragraph."""
    if isinstance(error, pickle.UnpicklingError):
        return "not a state dict saved by torch.save, or damaged"
    return f"truncated or damaged, or not saved by torch.save ({type(error).__name__}: {_first_line(error, 100)})"


def state_dict_summary(error: BaseException) -> str:
    """Torch's `load_state_dict` report in a few words: how many keys are missing, unexpected, reshaped."""
    text = str(error)
    missing = re.findall(r"Missing key\(s\) in state_dict: (.*)", text) or re.findall(r"Missing keys: (.*)", text)
    unexpected = re.findall(r"Unexpected key\(s\) in state_dict: (.*)", text) or re.findall(
        r"Unexpected keys: (.*)", text
    )
    reshaped = re.findall(r"size mismatch for ([^:]+):", text)
    counts = []
    example = ""
    for keys, what in ((missing, "missing"), (unexpected, "unexpected")):
        names = re.findall(r"[\"']([^\"']+)[\"']", keys[0]) if keys else []
        if names:
            counts.append(f"{len(names)} {what}")
            example = example or names[0]
    if reshaped:
        counts.append(f"{len(reshaped)} of another shape")
        example = example or reshaped[0]
    if not counts:
        return _first_line(error)
    return ", ".join(counts) + (f", e.g. {example}" if example else "")


def encoder_failure(error: BaseException) -> Optional[Tuple[str, str]]:
    """
    `(encoder, why)` when `error` is transformers failing to load the encoder a config names (a
    folder that is not there, a model neither cached nor downloadable), else `None`.
    """
    if not isinstance(error, OSError):
        return None
    encoder = None
    for frame in _frames(error.__traceback__):
        if "/transformers/" in Path(frame.f_code.co_filename).as_posix():
            for variable in ("path_or_repo_id", "pretrained_model_name_or_path"):
                value = frame.f_locals.get(variable)
                if isinstance(value, (str, os.PathLike)):
                    encoder = os.fspath(value)
    if encoder is None:
        return None
    if encoder.startswith(("/", ".", "~")) or not re.match(r"^[\w.-]+(/[\w.-]+)?$", encoder):
        return encoder, "no such folder"
    return (
        encoder,
        "no folder of that name, not in the local Hugging Face cache, and transformers could not download it",
    )


def explain(error: BaseException, archive: ArchivePath) -> Optional[ArchiveError]:
    """
    An `ArchiveError` naming `archive` for an error `load_archive(archive)` raised, if it is one of
    the ways an archive goes wrong (see the module), else `None`.
    """
    if isinstance(error, ArchiveError):
        return error
    name = os.fspath(archive)
    weights_file = _torch_load_file(error.__traceback__)
    if isinstance(error, FileNotFoundError) and weights_file is None:
        missing = missing_path(error)
        if not os.path.exists(name):
            return ArchiveError(f"{name}: no such file (a model archive is the model.tar.gz of a training run)")
        if missing is not None and Path(missing).name in ("config.json", "vocabulary"):
            member = "vocabulary/" if Path(missing).name == "vocabulary" else "config.json"
            return ArchiveError(f"{name}: not a model archive: it has no {member} (allennlp train writes {MEMBERS})")
        if missing is not None and not _in_temporary_folder(missing):
            return ArchiveError(f"{name}: its config names {missing}, which does not exist")
        return None
    if isinstance(error, FileNotFoundError) and Path(weights_file or "").name in _WEIGHTS_NAMES:
        return ArchiveError(f"{name}: not a model archive: it has no weights.th (allennlp train writes {MEMBERS})")
    if weights_file is not None:
        return ArchiveError(f"{name}: its weights cannot be read by torch.load ({torch_load_problem(error)})")
    encoder = encoder_failure(error)
    if encoder is not None:
        # A model trained with a folder as its encoder names that folder as it was where it was trained.
        return ArchiveError(
            f"{name}: the encoder its config names, {encoder[0]}, cannot be loaded here: {encoder[1]} "
            "(-o can name another: model.embedder.model_name, dataset_reader.token_indexers.tokens.model_name)"
        )
    if isinstance(error, EOFError):
        return ArchiveError(
            f"{name}: truncated: the gzip data end before the archive does (copied or written in part?)"
        )
    if isinstance(error, (tarfile.TarError, zlib.error, gzip.BadGzipFile)):
        if str(error) == "not a gzip file":
            return ArchiveError(f"{name}: not a gzip-compressed tar archive (the model.tar.gz of a training run)")
        if str(error) == "empty file":
            return ArchiveError(f"{name}: an empty file, not a model archive")
        return ArchiveError(f"{name}: damaged or not a model archive ({_first_line(error, 100)})")
    if isinstance(error, RuntimeError) and str(error).startswith(_STATE_DICT):
        built = _STATE_DICT_OF.search(str(error))
        if built and built.group(1) != SPERT_MT_CLASS:
            return ArchiveError(
                f"{name}: not a spert-mt model: its config builds a {built.group(1)}, "
                f"and its weights do not fit that either ({state_dict_summary(error)})"
            )
        return ArchiveError(
            f"{name}: its weights do not fit the model its config builds ({state_dict_summary(error)}): "
            "saved by another version of spert-mt?"
        )
    if isinstance(error, ConfigurationError):
        message = _first_line(error, 400)
        registered = _NOT_REGISTERED.match(message) or _NOT_A_CHOICE.match(message)
        if registered:
            kind = registered.group(2).split(".")[0]
            return ArchiveError(
                f"{name}: its config asks for a {kind} of type '{registered.group(1)}', which is not registered: "
                "not a spert-mt model (whose type is spert_mt), or made with a plugin that is not installed"
            )
    elif not (isinstance(error, TypeError) and "unexpected keyword argument" in str(error)):
        return None
    model_type = _model_type(error.__traceback__)
    if model_type is None:
        # Raised before the config was read: nothing to say about the model.
        return ArchiveError(f"{name}: {_first_line(error, 400)}")
    if model_type != SPERT_MT_TYPE:
        return ArchiveError(
            f"{name}: not a spert-mt model: its config builds a '{model_type}' model, which does not load here "
            f"({_first_line(error)})"
        )
    return ArchiveError(
        f"{name}: its config does not fit this version of spert-mt ({_first_line(error)}): made by another version?"
    )


def _load_archive_frame(traceback: Optional[TracebackType]) -> Optional[Any]:
    """The frame of AllenNLP's `load_archive` in `traceback`, if the error came from inside it."""
    for frame in _frames(traceback):
        if _in_function(frame, "allennlp/models/archival.py", "load_archive"):
            return frame
    return None


def _model_type(traceback: Optional[TracebackType]) -> Optional[str]:
    """The model type of the config AllenNLP's `load_archive` had read when the error in `traceback` came."""
    frame = _load_archive_frame(traceback)
    config = frame.f_locals.get("config") if frame is not None else None
    model = config.as_dict(quiet=True).get("model") if hasattr(config, "as_dict") else None
    return model.get("type") if isinstance(model, dict) else None


def archive_in(traceback: Optional[TracebackType]) -> Optional[str]:
    """The archive AllenNLP's `load_archive` was loading when the error in `traceback` was raised, if it was."""
    frame = _load_archive_frame(traceback)
    archive = frame.f_locals.get("archive_file") if frame is not None else None
    return os.fspath(archive) if isinstance(archive, (str, os.PathLike)) else None


_NOT_RECOVERED = re.compile(r"^Could not recover training from the checkpoint in (.+?)\. Did you mean")


def explain_traceback(
    error: BaseException, traceback: Optional[TracebackType], run: Optional[str] = None
) -> Optional[ConfigurationError]:
    """
    For the `allennlp` command: an `ArchiveError` for an error raised while AllenNLP loaded an
    archive (`evaluate`, `predict`) or a training checkpoint (`train --recover`, the run folder
    `run`), a `ConfigurationError` for an encoder a config names that transformers cannot load,
    else `None`.
    """
    archive = archive_in(traceback)
    if archive is not None:
        return explain(error, archive)
    not_recovered = _NOT_RECOVERED.match(str(error)) if isinstance(error, ConfigurationError) else None
    if not_recovered and error.__cause__ is not None:
        # AllenNLP's own message says only that the run could not be resumed; its cause says why.
        cause = error.__cause__
        folder = not_recovered.group(1)
        return explain_traceback(cause, cause.__traceback__, folder) or ArchiveError(
            f"{folder}: cannot resume from its checkpoint ({type(cause).__name__}: {_first_line(cause)})"
        )
    checkpoint = _torch_load_file(traceback)
    if checkpoint is not None and not isinstance(error, FileNotFoundError):
        return ArchiveError(f"{checkpoint}: cannot be read by torch.load ({torch_load_problem(error)})")
    encoder = encoder_failure(error)
    if encoder is not None:
        return ConfigurationError(f"the encoder the config names, {encoder[0]}, cannot be loaded: {encoder[1]}")
    if run is not None and isinstance(error, RuntimeError) and str(error).startswith(_STATE_DICT):
        return ArchiveError(
            f"{run}: the checkpoint's weights do not fit the model the config builds ({state_dict_summary(error)}): "
            "saved by another version of spert-mt?"
        )
    return None

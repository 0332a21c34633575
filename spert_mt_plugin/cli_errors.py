"""
Known errors end an `allennlp` command with one line instead of a traceback.

A bad data file, a bad input line, a config that does not evaluate or a missing file is the user's
to fix, and its message already names the file, line or field; the traceback through AllenNLP and
torch above it only buries it. When the plugin is loaded by the `allennlp` command, an uncaught
error of these kinds prints `allennlp <command>: error: <message>` and exits with status 1;
`SPERT_DEBUG=1` restores the full traceback. Other errors (bugs) keep their traceback.

An error raised while AllenNLP loads a model archive or a checkpoint (`evaluate`, `predict`,
`train --recover`) is first put in terms of the file (`archive_errors.explain_traceback`): a truncated
archive, one without config.json or whose weights do not fit the model are the user's to fix too.

`allennlp train` replaces `sys.excepthook` with one that logs "Uncaught exception" with its
traceback to the console and to the run's `out.log`; there a filter on the root logger keeps the
traceback in `out.log` and gives the console the one line.
"""

import logging
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Optional, Type

DEBUG_VARIABLE = "SPERT_DEBUG"


def is_known(error: BaseException) -> bool:
    """Whether `error` is one whose message says all a user needs (see the module)."""
    from allennlp.common.checks import ConfigurationError

    from spert_mt_plugin.corpus.sharding import CorpusError
    from spert_mt_plugin.predictors.spert_mt import InputError
    from spert_mt_plugin.results.runs import ResultsError

    if isinstance(error, (ConfigurationError, InputError, ResultsError, CorpusError, FileNotFoundError)):
        return True
    # jsonnet's errors: the message starts with the kind and names the file, line and column.
    return isinstance(error, RuntimeError) and str(error).startswith(("RUNTIME ERROR", "STATIC ERROR"))


def explained(error: BaseException, traceback: Optional[TracebackType]) -> BaseException:
    """`error`, or the `ArchiveError` that says which archive or checkpoint it came from and what is wrong."""
    from spert_mt_plugin.archive_errors import explain_traceback

    try:
        archive_error = explain_traceback(error, traceback)
    except Exception:
        # Reading the frames is a courtesy: whatever goes wrong in it, the original error stands.
        return error
    return archive_error or error


def missing_file(path: str) -> str:
    """A missing input file, with the hint where data files come from when it is under SPERT_DATA_DIR."""
    data_dir = os.environ.get("SPERT_DATA_DIR", "")
    if data_dir and os.path.normpath(path).startswith(os.path.normpath(data_dir) + os.sep):
        return f"{path}: no such file (SPERT_DATA_DIR is {data_dir}; scripts/get_data.sh downloads the datasets)"
    return f"{path}: no such file"


def one_line(error: BaseException) -> str:
    """The error's message on one line (jsonnet's: its first line, which names the place)."""
    from spert_mt_plugin.archive_errors import missing_path

    message = str(error).strip() or type(error).__name__
    path = missing_path(error) if isinstance(error, FileNotFoundError) and not error.filename else None
    if path is not None:
        # cached_path's wording, for data files named by a config or on the command line.
        message = missing_file(path)
    if isinstance(error, RuntimeError):
        message = message.splitlines()[0]
    if isinstance(error, KeyError) and message.startswith(("'", '"')):
        message = message[1:-1]
    return " ".join(message.split())


def command_name(argv: list) -> str:
    """`allennlp train` for `['.../allennlp', 'train', ...]`."""
    words = [word for word in argv[1:2] if not word.startswith("-")]
    return " ".join(["allennlp", *words])


def debugging() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def report(error: BaseException) -> None:
    print(f"{command_name(sys.argv)}: error: {one_line(error)}", file=sys.stderr)
    print(f"({DEBUG_VARIABLE}=1 shows the traceback)", file=sys.stderr, flush=True)


def hook(kind: Type[BaseException], error: BaseException, traceback: Optional[TracebackType]) -> None:
    if not debugging():
        error = explained(error, traceback)
    if debugging() or not is_known(error):
        sys.__excepthook__(kind, error, traceback)
        return
    report(error)
    # The status an uncaught exception gives; sys.exit cannot run inside an excepthook.
    os._exit(1)


class UncaughtKnownError(logging.Filter):
    """On the root logger: AllenNLP's "Uncaught exception" record of a known error goes whole to the
    log files only, and the console gets the one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.msg != "Uncaught exception" or error is None or debugging():
            return True
        error = explained(error, record.exc_info[2])
        if not is_known(error):
            return True
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)
        report(error)
        return False


def running_allennlp_command(argv: list) -> bool:
    """Whether this process is the `allennlp` command (its script or `python -m allennlp`)."""
    if not argv:
        return False
    program = Path(argv[0])
    return program.name == "allennlp" or (program.name == "__main__.py" and program.parent.name == "allennlp")


def install_for_allennlp_command() -> None:
    """Installs the hook in the `allennlp` command only: a program that imports the package keeps its own."""
    if running_allennlp_command(sys.argv):
        sys.excepthook = hook
        logging.getLogger().addFilter(UncaughtKnownError())

"""
The arguments the HTTP commands (`spert-serve`, `spert-label-studio-backend`) share: the archive,
the address and gunicorn's workers (`add_server_arguments`), and how the model predicts
(`add_model_arguments`, turned into a predictor by `predictor_from_args`).
"""

import argparse
from typing import Callable

from spert_mt_plugin.inference.prediction_settings import add_prediction_arguments, prediction_settings_from_args


def at_least(minimum: int) -> Callable[[str], int]:
    """
    An argparse `type`: an integer of at least `minimum`. A smaller one would reach gunicorn or the
    app (0 workers divides by zero, a negative limit refuses every request); argparse prints the
    message as the command's one-line error.
    """

    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return integer


def add_server_arguments(
    subparser: argparse.ArgumentParser, port: int, workers: int, threads: int, request_bytes: int = 2_000_000
) -> None:
    """The archive, the address and gunicorn's workers, threads and timeouts: the HTTP commands' arguments."""
    subparser.add_argument("archive_file", help="the model archive (model.tar.gz)")
    subparser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    subparser.add_argument("--port", type=int, default=port, help="port")
    subparser.add_argument(
        "--workers",
        type=at_least(1),
        default=workers,
        help="worker processes, each serving requests in parallel",
    )
    subparser.add_argument(
        "--threads",
        type=at_least(1),
        default=threads,
        help="threads per worker; 2 answers /health and short requests while a long one computes, "
        "at some cost in throughput",
    )
    subparser.add_argument(
        "--torch-threads",
        type=at_least(1),
        default=None,
        help="torch intra-op threads per worker (default: CPU cores / workers, at least 1)",
    )
    subparser.add_argument(
        "--timeout",
        type=at_least(1),
        default=120,
        help="seconds a worker may spend on one request before gunicorn restarts it",
    )
    subparser.add_argument(
        "--graceful-timeout",
        type=at_least(0),
        default=None,
        help="seconds the workers get after SIGTERM to finish the requests they are answering before they are "
        "killed (default: --timeout, the longest a request may take)",
    )
    subparser.add_argument(
        "--max-request-bytes",
        type=at_least(1),
        default=request_bytes,
        help="largest request body; larger ones get HTTP 413",
    )


def add_model_arguments(subparser: argparse.ArgumentParser) -> None:
    """How the model predicts: device, language, size limits, thresholds, decoding and precision."""
    subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU id, -1 for CPU")
    subparser.add_argument("--language", default="en", help="spaCy language for raw text")
    subparser.add_argument(
        "--max-request-words",
        type=at_least(1),
        default=20000,
        help="most words per request; larger requests get HTTP 413",
    )
    subparser.add_argument(
        "--max-sentence-words",
        type=at_least(1),
        default=1000,
        help="longest sentence, in words; longer ones get HTTP 413",
    )
    add_prediction_arguments(subparser)


def predictor_from_args(args: argparse.Namespace, archive: str):
    """The predictor of `archive` with the options of `add_model_arguments`."""
    from spert_mt_plugin.archives import load_predictor

    # A bad archive raises an ArchiveError, which gunicorn's master passes on (a RuntimeError it
    # would print whole) to the command's one-line error hook.
    return load_predictor(
        archive,
        predictor_name="spert_mt",
        cuda_device=args.cuda_device,
        language=args.language,
        max_words=args.max_request_words,
        max_sentence_words=args.max_sentence_words,
        **prediction_settings_from_args(args)._asdict(),
    )

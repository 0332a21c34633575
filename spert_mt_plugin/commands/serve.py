"""
`allennlp spert-serve`: the HTTP service on gunicorn, a production WSGI server.

Why gunicorn (and not waitress): prediction is CPU-bound Python and torch. Threads in one process
share the interpreter lock for everything but the torch kernels (spaCy, decoding, JSON), so two
threads do not give two cores' worth of work; gunicorn's worker *processes* do. With
`--preload` semantics the model is loaded once in the master and the workers are forked from it,
sharing its weights copy-on-write, and gunicorn restarts a worker that dies or overruns
`--timeout`, so one bad request does not take the service down. `--threads 2` lets a worker answer
`/health` and short requests while a long one computes, at some cost in throughput (the
load test of docs/serving.md: 72.8 against 84.3 requests/s with two workers on two cores).
"""

import argparse
import logging
import os
from typing import Any, Callable, Dict

from allennlp.commands.subcommand import Subcommand

logger = logging.getLogger(__name__)


@Subcommand.register("spert-serve")
class Serve(Subcommand):
    """`allennlp spert-serve model.tar.gz`: the HTTP service and visual page over a trained model."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Serve a trained spert-mt model over HTTP on gunicorn: POST /predict (JSON), GET /health, "
            "and a page at / that draws entities and relations."
        )
        subparser = parser.add_parser(self.name, description=description, help="Serve a trained model over HTTP.")
        subparser.add_argument("archive_file", help="the model archive (model.tar.gz)")
        subparser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
        subparser.add_argument("--port", type=int, default=8000, help="port")
        subparser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="worker processes, each serving requests in parallel (the default is one per CPU core)",
        )
        subparser.add_argument(
            "--threads",
            type=int,
            default=1,
            help="threads per worker; 2 answers /health and short requests while a long one computes, "
            "at some cost in throughput",
        )
        subparser.add_argument(
            "--torch-threads",
            type=int,
            default=None,
            help="torch intra-op threads per worker (default: CPU cores / workers, at least 1)",
        )
        subparser.add_argument(
            "--timeout",
            type=int,
            default=120,
            help="seconds a worker may spend on one request before gunicorn restarts it",
        )
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU id, -1 for CPU")
        subparser.add_argument("--language", default="en", help="spaCy language for raw text")
        subparser.add_argument(
            "--max-batch", type=int, default=64, help="most instances per request; larger batches get HTTP 413"
        )
        subparser.add_argument(
            "--max-request-words",
            type=int,
            default=20000,
            help="most words per request; larger requests get HTTP 413",
        )
        subparser.add_argument(
            "--max-sentence-words",
            type=int,
            default=1000,
            help="longest sentence, in words; longer ones get HTTP 413",
        )
        subparser.add_argument(
            "--max-request-bytes",
            type=int,
            default=2_000_000,
            help="largest request body; larger ones get HTTP 413",
        )
        subparser.set_defaults(func=serve_from_args)
        return subparser


def app_factory(args: argparse.Namespace) -> Callable[[], Any]:
    """A function that loads the model and builds the Flask app from the command's arguments."""

    def load():
        from allennlp.predictors import Predictor

        from spert_mt_plugin.service.app import create_app

        predictor = Predictor.from_path(
            args.archive_file,
            predictor_name="spert_mt",
            cuda_device=args.cuda_device,
            language=args.language,
            max_words=args.max_request_words,
            max_sentence_words=args.max_sentence_words,
        )
        return create_app(predictor, max_batch=args.max_batch, max_request_bytes=args.max_request_bytes)

    return load


def serve_from_args(args: argparse.Namespace) -> None:
    import torch
    from gunicorn.app.base import BaseApplication

    # The master's tokenizer runs before the fork; the workers' then warn and switch parallelism off.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch_threads = args.torch_threads or max(1, (os.cpu_count() or 1) // args.workers)
    on_gpu = args.cuda_device >= 0
    if not on_gpu:
        # The master loads the model before forking. With one intra-op thread nothing in it starts
        # OpenMP's thread pool, which does not survive a fork (the workers would hang).
        torch.set_num_threads(1)

    def post_fork(server, worker):
        torch.set_num_threads(torch_threads)

    options: Dict[str, Any] = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "timeout": args.timeout,
        # CUDA cannot be used in a process forked after it was initialised: on a GPU each worker
        # loads its own copy of the model.
        "preload_app": not on_gpu,
        "post_fork": post_fork,
        "accesslog": "-",
        "errorlog": "-",
        # gunicorn's control socket (one fixed path in $HOME) would clash between two services.
        "control_socket_disable": True,
    }
    load = app_factory(args)

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return load()

    logger.info(
        "spert-mt service on http://%s:%d/ (gunicorn, %d workers x %d threads, %d torch threads each)",
        args.host,
        args.port,
        args.workers,
        args.threads,
        torch_threads,
    )
    Application().run()

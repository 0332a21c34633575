"""
`allennlp spert-serve`: the HTTP service on gunicorn, a production WSGI server.

Why gunicorn (and not waitress): prediction is CPU-bound Python and torch. Threads in one process
share the interpreter lock for everything but the torch kernels (spaCy, decoding, JSON), so two
threads do not give two cores' worth of work; gunicorn's worker *processes* do. With
`--preload` semantics the model is loaded once in the master and the workers are forked from it,
sharing its weights copy-on-write, and gunicorn restarts a worker that dies or overruns
`--timeout`, so one bad request does not take the service down; on SIGTERM the workers finish the
requests they are answering (`--graceful-timeout`) and, with one thread each, the port refuses new
connections at once (docs/reliability.md, "The service survives its workers"). `--threads 2` lets a worker answer
`/health` and short requests while a long one computes, at some cost in throughput (the
load test of docs/serving.md: 72.8 against 84.3 requests/s with two workers on two cores).
"""

import argparse
import logging
import os
import signal
import sys
from typing import Any, Callable, Dict, Optional

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.commands.server_arguments import (
    add_model_arguments,
    add_server_arguments,
    at_least,
    predictor_from_args,
)

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
        add_server_arguments(subparser, port=8000, workers=os.cpu_count() or 1, threads=1)
        subparser.add_argument(
            "--max-batch", type=at_least(1), default=64, help="most instances per request; larger batches get HTTP 413"
        )
        add_model_arguments(subparser)
        subparser.set_defaults(func=serve_from_args)
        return subparser


def app_factory(args: argparse.Namespace) -> Callable[[], Any]:
    """A function that loads the model and builds the Flask app from the command's arguments."""

    def load():
        from spert_mt_plugin.service.app import create_app

        predictor = predictor_from_args(args, args.archive_file)
        return create_app(predictor, max_batch=args.max_batch, max_request_bytes=args.max_request_bytes)

    return load


# Whether this worker process is inside the app, computing an answer (each worker has its own copy).
_in_app = False


def _marking_busy(app: Callable) -> Callable:
    """The WSGI app, noting while it runs in `_in_app`."""

    def wsgi(environ, start_response):
        global _in_app
        _in_app = True
        try:
            return app(environ, start_response)
        finally:
            _in_app = False

    return wsgi


def _post_worker_init(worker) -> None:
    """
    On SIGTERM a sync worker finishes the request it answers, then exits; meanwhile it keeps its copy
    of the listening socket, so the kernel goes on queueing new connections that nobody will accept,
    and resets them only when the last worker exits. Closing the copy at SIGTERM makes the port refuse
    them at once (the master closes its own copy), which tells a client to go elsewhere right away.
    """
    from gunicorn.workers.sync import SyncWorker

    # gthread workers (--threads > 1) have their own shutdown: they stop accepting and drain.
    if not isinstance(worker, SyncWorker):
        return

    def handle_term(signum, frame):
        worker.alive = False
        # Only inside the app: from there the worker never touches the listener again before it exits
        # (gunicorn reads the listener's address before calling the app, and accepts after it).
        if _in_app:
            for listener in worker.sockets:
                listener.close()

    signal.signal(signal.SIGTERM, handle_term)
    # As gunicorn's own handler: the signal must not interrupt the request's system calls.
    signal.siginterrupt(signal.SIGTERM, False)


def _worker_exit(server, worker) -> None:
    """
    A worker that ends normally exits at once rather than through the interpreter's teardown: that
    teardown frees the model's objects one by one, touching pages shared with the master copy-on-write
    (10-15 s on the busy 2-core VM of docs/reliability.md, with the listening socket open all along),
    and it would run the master's atexit handlers, which are not the worker's to run.
    """
    # gunicorn calls this hook in the master too, when it reaps a worker.
    if os.getpid() != worker.pid:
        return
    error = sys.exc_info()[1]
    # A worker that fails to boot exits with gunicorn's status codes, which the master acts on.
    if isinstance(error, SystemExit) and error.code in (0, None):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _on_exit(server) -> None:
    """After a shutdown by signal the master, too, skips the teardown of its model (5 s on that VM)."""
    # gunicorn's halt() runs this hook while handling the exception that stopped the master: StopIteration
    # (SIGTERM) or KeyboardInterrupt for a shutdown (status 0); a HaltServer carries another status.
    if isinstance(sys.exc_info()[1], (StopIteration, KeyboardInterrupt)):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def serve_from_args(args: argparse.Namespace) -> None:
    run_gunicorn(args, app_factory(args), "spert-mt service")


def run_gunicorn(
    args: argparse.Namespace, load: Callable[[], Any], title: str, on_worker_exit: Optional[Callable[[], None]] = None
) -> None:
    """
    Serves the WSGI app that `load` builds on gunicorn with the options of `add_server_arguments`;
    `on_worker_exit` runs in a worker before it exits.
    """
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
        # gunicorn's default (30 s) would kill, on SIGTERM, a request that --timeout allows to go on.
        "graceful_timeout": args.graceful_timeout if args.graceful_timeout is not None else args.timeout,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "on_exit": _on_exit,
        # CUDA cannot be used in a process forked after it was initialised: on a GPU each worker
        # loads its own copy of the model.
        "preload_app": not on_gpu,
        "post_fork": post_fork,
        "accesslog": "-",
        "errorlog": "-",
        # gunicorn's control socket (one fixed path in $HOME) would clash between two services.
        "control_socket_disable": True,
    }
    if on_worker_exit is not None:

        def worker_exit(server, worker):
            if os.getpid() == worker.pid:
                on_worker_exit()
            _worker_exit(server, worker)

        options["worker_exit"] = worker_exit

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return _marking_busy(load())

    logger.info(
        "%s on http://%s:%d/ (gunicorn, %d workers x %d threads, %d torch threads each)",
        title,
        args.host,
        args.port,
        args.workers,
        args.threads,
        torch_threads,
    )
    Application().run()

import argparse
import logging

from allennlp.commands.subcommand import Subcommand

logger = logging.getLogger(__name__)


@Subcommand.register("spert-serve")
class Serve(Subcommand):
    """`allennlp spert-serve model.tar.gz`: the HTTP service and visual page over a trained model."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Serve a trained spert-mt model over HTTP: POST /predict (JSON), GET /health, and a page "
            "at / that draws entities and relations."
        )
        subparser = parser.add_parser(self.name, description=description, help="Serve a trained model over HTTP.")
        subparser.add_argument("archive_file", help="the model archive (model.tar.gz)")
        subparser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
        subparser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU id, -1 for CPU")
        subparser.add_argument("--language", default="en", help="spaCy language for raw text (default: en)")
        subparser.add_argument("--max-batch", type=int, default=64, help="most instances per request")
        subparser.set_defaults(func=serve_from_args)
        return subparser


def serve_from_args(args: argparse.Namespace) -> None:
    from allennlp.predictors import Predictor

    from spert_mt_plugin.service.app import create_app

    predictor = Predictor.from_path(
        args.archive_file, predictor_name="spert_mt", cuda_device=args.cuda_device, language=args.language
    )
    app = create_app(predictor, max_batch=args.max_batch)
    logger.info("spert-mt service on http://%s:%d/", args.host, args.port)
    # Flask's threaded development server is enough for one model on one machine; the WSGI app
    # (`create_app`) runs under any WSGI server (gunicorn, waitress) for more.
    app.run(host=args.host, port=args.port, threaded=False)

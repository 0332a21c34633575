"""
`allennlp spert-label-studio-backend model.tar.gz --port 9090`: a Label Studio ML backend over a
trained model (`service.label_studio_backend`), on gunicorn as `spert-serve`, that pre-annotates
tasks with entities and relations and, with `--train-config`, retrains on the project's annotations
when Label Studio asks (`service.retraining`).
"""

import argparse
import os

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.commands.serve import run_gunicorn
from spert_mt_plugin.commands.server_arguments import add_model_arguments, add_server_arguments, predictor_from_args


@Subcommand.register("spert-label-studio-backend")
class LabelStudioBackend(Subcommand):
    """The Label Studio ML backend command."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Serve a trained spert-mt model as a Label Studio ML backend on gunicorn: pre-annotations of entities "
            "and relations on every task, and retraining on the project's annotations (docs/label_studio.md)."
        )
        subparser = parser.add_parser(self.name, description=description, help="Serve a model to Label Studio.")
        # One worker by default: a retrained model is loaded by each worker, and annotators open one task at a time.
        add_server_arguments(subparser, port=9090, workers=1, threads=2, request_bytes=50_000_000)
        subparser.add_argument(
            "--work-dir",
            default="label-studio-backend",
            help="folder of the backend's state: the current model, the training rounds and their models",
        )
        subparser.add_argument(
            "--model-version",
            default=None,
            help="the name of the archive's model in Label Studio (default: spert-mt- and a hash of the archive)",
        )
        subparser.add_argument(
            "--train-config",
            default=None,
            help="experiment config (jsonnet) that retraining trains with, on the project's annotations read by the "
            "label_studio reader; without it, retraining is off",
        )
        subparser.add_argument(
            "--fine-tune",
            action="store_true",
            help="retrain by fine-tuning the current model (the config's model section is replaced), not from scratch",
        )
        subparser.add_argument(
            "--held-out-every",
            type=int,
            default=5,
            help="every Nth annotated task is held out to compare the new model with the current one",
        )
        subparser.add_argument(
            "--label-studio-url",
            default=os.environ.get("LABEL_STUDIO_URL"),
            help="Label Studio's address, to export the annotations when it asks for training (taken from "
            "$LABEL_STUDIO_URL when not given); the API key is read from $LABEL_STUDIO_API_KEY",
        )
        add_model_arguments(subparser)
        subparser.set_defaults(func=backend_from_args)
        return subparser


def backend_from_args(args: argparse.Namespace) -> None:
    if args.train_config is not None and not os.path.isfile(args.train_config):
        raise FileNotFoundError(f"--train-config {args.train_config}: no such file")
    if args.held_out_every < 2:
        raise ValueError(f"--held-out-every must be at least 2, got {args.held_out_every}")

    def load():
        from spert_mt_plugin.service.label_studio_backend import create_backend
        from spert_mt_plugin.service.model_slot import ModelSlot
        from spert_mt_plugin.service.retraining import Retraining, TrainingSettings

        slot = ModelSlot(
            args.work_dir, lambda archive: predictor_from_args(args, archive), args.archive_file, args.model_version
        )
        retraining = None
        if args.train_config is not None:
            settings = TrainingSettings(
                config=args.train_config,
                fine_tune=args.fine_tune,
                held_out_every=args.held_out_every,
                label_studio_url=args.label_studio_url,
                api_key=os.environ.get("LABEL_STUDIO_API_KEY"),
            )
            retraining = Retraining(settings, slot)
        return create_backend(slot, retraining, max_request_bytes=args.max_request_bytes)

    def stop_training():
        from spert_mt_plugin.service.retraining import stop_training

        stop_training()

    run_gunicorn(args, load, "spert-mt Label Studio ML backend", on_worker_exit=stop_training)

"""
`allennlp spert-predict-corpus`: a trained model over a whole corpus on a Ray cluster
(`corpus.ray_prediction`; docs/scaling.md). On one machine it starts Ray itself; with
`RAY_ADDRESS` (or `--address`) set, the same command runs on that cluster.
"""

import argparse
import json
import logging
import sys

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.commands.server_arguments import at_least
from spert_mt_plugin.inference.precision import AUTO, PRECISIONS


def positive_number(text: str) -> float:
    """An argparse `type`: a number above 0 (cores per actor)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def predictor_arguments(text: str) -> dict:
    """An argparse `type`: a JSON object of predictor arguments, as `allennlp predict --predictor-args`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"entity_threshold\": 1.2}'")
    return value


@Subcommand.register("spert-predict-corpus")
class PredictCorpus(Subcommand):
    """`allennlp spert-predict-corpus model.tar.gz corpus/ -o predictions/`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Predict entities and relations for every row of JSON Lines or Parquet files (or folders of them) "
            "on a Ray cluster: a pool of actors, each loading the model once; one output file per shard, in "
            "input order; bad rows become error rows; a restart skips the shards already written."
        )
        subparser = parser.add_parser(self.name, description=description, help="Predict a whole corpus on Ray.")
        subparser.add_argument("archive_file", help="the model archive (model.tar.gz)")
        subparser.add_argument("inputs", nargs="+", help="JSON Lines (.jsonl, .json) or Parquet files, or folders")
        subparser.add_argument("-o", "--output", required=True, help="output folder (part-NNNNN files)")
        subparser.add_argument("--output-format", choices=("jsonl", "parquet"), default="jsonl")
        subparser.add_argument(
            "--rows-per-shard", type=at_least(1), default=10_000, help="most input rows per output file"
        )
        subparser.add_argument("--batch-size", type=at_least(1), default=64, help="rows an actor predicts at a time")
        subparser.add_argument(
            "--num-actors", type=at_least(1), default=None, help="actors (default: cluster CPUs / --cpus-per-actor)"
        )
        subparser.add_argument("--cpus-per-actor", type=positive_number, default=1.0, help="cores each actor takes")
        subparser.add_argument(
            "--gpus-per-actor", type=float, default=0.0, help="GPUs each actor takes (0.5: two actors share one)"
        )
        subparser.add_argument("--precision", choices=PRECISIONS + (AUTO,), default=AUTO)
        subparser.add_argument(
            "--predictor-args",
            type=predictor_arguments,
            default={},
            help="JSON object of further predictor arguments, as for allennlp predict",
        )
        subparser.add_argument(
            "--address", default=None, help="Ray cluster to join (default: $RAY_ADDRESS, else Ray on this machine)"
        )
        subparser.add_argument("--progress-interval", type=float, default=30.0, help="seconds between progress lines")
        subparser.set_defaults(func=predict_corpus_from_args)
        return subparser


def predict_corpus_from_args(args: argparse.Namespace) -> None:
    from spert_mt_plugin.corpus import predict_corpus

    logging.getLogger("spert_mt_plugin.corpus").setLevel(logging.INFO)
    summary = predict_corpus(
        args.archive_file,
        args.inputs,
        args.output,
        output_format=args.output_format,
        rows_per_shard=args.rows_per_shard,
        batch_size=args.batch_size,
        num_actors=args.num_actors,
        cpus_per_actor=args.cpus_per_actor,
        gpus_per_actor=args.gpus_per_actor,
        precision=args.precision,
        predictor_args=args.predictor_args,
        address=args.address,
        progress_interval=args.progress_interval,
    )
    print(
        f"{summary.shards_written} shards written, {summary.shards_skipped} already done; "
        f"{summary.rows} rows in {summary.seconds:.1f} s ({summary.rows_per_second:.1f} rows/s) "
        f"on {summary.actors} actors and {len(summary.rows_per_node)} nodes; {summary.errors} rows with errors; "
        f"output in {args.output}",
        file=sys.stdout,
    )

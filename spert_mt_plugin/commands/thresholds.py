"""
`allennlp spert-thresholds`: what each threshold theta gives on a labelled file (precision, recall
and F1 of entities and of relations against theta), and the theta to choose for the best F1 or a
wanted precision, without retraining (docs/scores.md). The curves are measured by
`results.threshold_measurement` (why two predictions give every theta exactly: there); the report
is written as text and drawn by `results.threshold_report`.
"""

import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.inference.precision import AUTO, PRECISIONS
from spert_mt_plugin.results.threshold_measurement import (
    MARGIN_LOW,
    MAX_ENTITIES_PER_SENTENCE,
    PROBABILITY_LOW,
    SOFTMAX_LOW,
    measure_thresholds,
)
from spert_mt_plugin.results.threshold_report import markdown_report, plot_report, summary_lines, usage_lines


def parse_precisions(values: Optional[Sequence[str]]) -> List[float]:
    """`--target-precision 0.9 --target-precision 0.8,0.95` as `[0.8, 0.9, 0.95]`; outside (0, 1] is an error."""
    precisions = set()
    for value in values or ():
        for part in value.split(","):
            try:
                number = float(part)
            except ValueError:
                raise ConfigurationError(
                    f"--target-precision {part!r}: not a number (a fraction in (0, 1], e.g. 0.9)"
                ) from None
            if not 0 < number <= 1:
                raise ConfigurationError(f"--target-precision {part}: give a fraction in (0, 1], e.g. 0.9 for 90%")
            precisions.add(number)
    return sorted(precisions)


@Subcommand.register("spert-thresholds")
class Thresholds(Subcommand):
    """`allennlp spert-thresholds model.tar.gz dev.json -o thresholds/`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Show what each threshold theta gives on a labelled file: precision, recall and F1 of entities and of "
            "relations (as allennlp evaluate counts them) against theta, the theta of the best F1 and the lowest "
            "theta reaching each wanted precision (--target-precision); writes thresholds.png, thresholds.md and "
            "thresholds.json into OUT_DIR and prints the allennlp predict line that uses them. A prediction is kept "
            "when its score "
            "reaches theta: a margin score for SpERT.MT's heads (theta 0.85), a probability for SpERT's (entities: "
            "argmax, theta 0; relations: 0.4). The file is predicted once at the low bounds (entity curve) and once "
            "at the model's entity theta (relation curve); the curves cannot extend below the low bounds. It "
            "predicts in the arithmetic of --precision, prediction's default unless told (allennlp evaluate is "
            "float32). See docs/scores.md."
        )
        subparser = parser.add_parser(
            self.name, description=description, help="Precision/recall against the thresholds; choose theta."
        )
        subparser.add_argument("archive_file", help="the model archive (model.tar.gz)")
        subparser.add_argument("input_file", help="a labelled file the model's reader reads (the dev set, say)")
        subparser.add_argument("-o", "--output-dir", default="thresholds", help="folder for the plot and the tables")
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU id, -1 for CPU")
        subparser.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass")
        subparser.add_argument(
            "--min-entity-threshold",
            type=float,
            default=None,
            metavar="X",
            help=f"low bound of the entity curve (default: {MARGIN_LOW:g} for margin scores, {SOFTMAX_LOW:g} for "
            "SpERT's softmax probabilities, or the current theta if lower); each sentence's entities above it are "
            "all paired for the relation head once, so a low bound costs time",
        )
        subparser.add_argument(
            "--min-relation-threshold",
            type=float,
            default=None,
            metavar="Y",
            help=f"low bound of the relation curve (default: {MARGIN_LOW:g} for margin scores, "
            f"{PROBABILITY_LOW:g} for SpERT's sigmoid probabilities, or the current theta if lower)",
        )
        subparser.add_argument(
            "--target-precision",
            action="append",
            default=None,
            metavar="P",
            help="a wanted precision, a fraction (0.9 for 90%%): the lowest theta that reaches it is reported "
            "(repeat the option or give a comma list)",
        )
        subparser.add_argument(
            "--precision",
            choices=PRECISIONS + (AUTO,),
            default=AUTO,
            help="arithmetic of prediction, as spert-serve --precision and the predictor's precision argument: "
            "measure in the mode you will predict in; auto: prediction's default, bfloat16 on CPUs with native "
            "bfloat16, else float32 (docs/speed.md, Precision modes); float32 gives allennlp evaluate's figures. "
            "A wanted precision of the figures is --target-precision",
        )
        subparser.add_argument(
            "--entity-threshold",
            type=float,
            default=None,
            metavar="THETA",
            help="the entity theta the relation curve is measured at, instead of the model's",
        )
        subparser.add_argument(
            "--max-entities-per-sentence",
            type=int,
            default=MAX_ENTITIES_PER_SENTENCE,
            help="stop when a sentence has more entities at the low entity bound (their pairs all go through the "
            "relation head)",
        )
        subparser.add_argument(
            "--overrides", default="", help="a JSON object of config overrides for the archive, as allennlp predict"
        )
        subparser.set_defaults(func=thresholds_from_args)
        return subparser


def thresholds_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    if args.batch_size < 1 or args.max_entities_per_sentence < 1:
        raise ConfigurationError("--batch-size and --max-entities-per-sentence must be at least 1")
    report = measure_thresholds(
        args.archive_file,
        args.input_file,
        cuda_device=args.cuda_device,
        batch_size=args.batch_size,
        entity_low=args.min_entity_threshold,
        relation_low=args.min_relation_threshold,
        wanted_precisions=parse_precisions(args.target_precision),
        overrides=args.overrides,
        max_entities_per_sentence=args.max_entities_per_sentence,
        entity_threshold=args.entity_threshold,
        precision=args.precision,
    )
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    plot_report(report, str(output_dir / "thresholds.png"))
    write_text(output_dir / "thresholds.md", markdown_report(report))
    write_text(output_dir / "thresholds.json", json.dumps(report, indent=2) + "\n")
    for line in summary_lines(report):
        print(line)
    print(f"wrote {output_dir / 'thresholds.png'}, thresholds.md and thresholds.json")
    print("to predict with the best-F1 thetas:")
    for line in usage_lines(report):
        print(f"  {line}")
    return report

"""
`allennlp spert-thresholds`: what each threshold theta gives on a labelled file (precision, recall
and F1 of entities and of relations against theta), and the theta to choose for the best F1 or a
wanted precision, without retraining (docs/scores.md).

Two predictions of the file give every theta above chosen low bounds exactly:

- an entity's score depends only on its span and sentence, and a relation's score only on its two
  arguments and sentence, not on which other entities were predicted;
- entities are taken in descending score (every accepted span, or greedily the best-scoring
  non-overlapping ones when decoding flat), so the entities predicted at a higher theta are those
  predicted at the low bound that score at least theta; the relations are those that score at
  least theta_r between surviving entities.

So the entity curve comes from one prediction at the low entity bound (relations left out), the
relation curve from one at the current entity theta and the low relation bound, each filtered
(`results.score_curves.filter_predictions`) and scored as `allennlp evaluate` scores
(`results.score_curves`); `results.threshold_report` writes the report as text. Both predictions
are made in the arithmetic of `--precision`, prepared as the predictor prepares it
(`inference.precision.prepare_model`), so that the figures are those of the predictions the chosen
theta gives.
"""

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.inference.precision import AUTO, PRECISIONS, prepare_model
from spert_mt_plugin.results.score_curves import Sentences, entity_curve, relation_curve, task_report
from spert_mt_plugin.results.threshold_report import TASKS, markdown_report, percent, summary_lines, usage_lines

logger = logging.getLogger(__name__)

# The default low bounds of the curves, per kind of score. A margin score (SpERT.MT's heads) is
# trained to be at least 2.5 for the right class and at most -0.5 for wrong ones, the default theta
# being 0.85; a probability below 0.05 is rarely worth a prediction.
MARGIN_LOW = 0.0
PROBABILITY_LOW = 0.05
# SpERT's softmax entity head decides by argmax, its least probability being 0 by default: its
# curve starts there and costs no extra prediction.
SOFTMAX_LOW = 0.0
# At the low entity bound every pair of entities of a sentence is scored by the relation head:
# past this many entities in a sentence the prediction stops and asks for a higher bound.
MAX_ENTITIES_PER_SENTENCE = 100


def plot_report(report: Dict[str, Any], output: str) -> None:
    """Two panels, entities and relations: precision against recall, the current and the best-F1 theta marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spert_mt_plugin.commands.plot import save_figure

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for axis, (task, title) in zip(axes, TASKS):
        part = report[task]
        curve = part["curve"]
        axis.plot([100 * p["recall"] for p in curve], [100 * p["precision"] for p in curve], marker=".", markersize=3)
        for key, label, marker in (("current", "current", "o"), ("best_f1", "best F1", "*")):
            point = part[key]
            axis.plot(
                [100 * point["recall"]],
                [100 * point["precision"]],
                marker=marker,
                markersize=11,
                fillstyle="none" if marker == "o" else "full",
                linestyle="none",
                label=f"{label}: theta {point['theta']:g}, F1 {percent(point['f1'])}",
            )
        where = "" if task == "entity" else f" (entity theta {report['relation']['entity_theta']:g})"
        axis.set_title(f"{title}{where}: theta from {part['low_bound']:g} ({part['score']} scores)")
        axis.set_xlabel("recall (%)")
        axis.set_ylabel("precision (%)")
        axis.set_xlim(0, 101)
        axis.set_ylim(0, 101)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small", loc="lower left")
    caption = f"one point per theta (descending); predicted in {report['precision']}"
    save_figure(figure, output, f"{report['archive']} on {report['data']}", caption)


def length_batches(metadata: Sequence[Dict[str, Any]], batch_size: int) -> List[List[int]]:
    """The sentences' indices in batches of `batch_size`, sentences of similar length together (less padding)."""
    order = sorted(range(len(metadata)), key=lambda i: len(metadata[i]["tokens"]))
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


def predict_batches(
    model,
    reader,
    metadata: Sequence[Dict[str, Any]],
    batches: Sequence[List[int]],
    entity_limit: Optional[int] = None,
    where: str = "",
) -> Tuple[Sentences, Sentences]:
    """
    The predicted entities and relations of each sentence (its `metadata`: `tokens`, `doc_id`),
    in order. The instances are built without the gold annotation, as a predictor builds them:
    the decisions are the same, and no loss is computed. With `entity_limit`, a sentence with more
    entities is an error naming it (`where`: the file), raised after its batch.
    """
    entities: List[Any] = [None] * len(metadata)
    relations: List[Any] = [None] * len(metadata)
    for batch in batches:
        instances = [reader.text_to_instance(metadata[i]["tokens"], doc_id=metadata[i].get("doc_id")) for i in batch]
        for index, output in zip(batch, model.forward_on_instances(instances)):
            entities[index], relations[index] = output["entities"], output["relations"]
            if entity_limit is not None and len(output["entities"]) > entity_limit:
                doc = metadata[index].get("doc_id")
                named = f"sentence {index + 1}" + (f" (document {doc})" if doc is not None else "")
                raise ConfigurationError(
                    f"{where}: {named} has {len(output['entities'])} entities at the low entity bound, over "
                    f"--max-entities-per-sentence {entity_limit} (the relation head scores every pair of them): "
                    "raise --min-entity-threshold, or the limit"
                )
    return entities, relations


def low_bounds(
    multitask: bool, current: Dict[str, float], entity_low: Optional[float], relation_low: Optional[float]
) -> Dict[str, float]:
    """The low bound of each curve: the one given, else the default of the head's scores (or theta if lower)."""
    defaults = {
        "entity": MARGIN_LOW if multitask else SOFTMAX_LOW,
        "relation": MARGIN_LOW if multitask else PROBABILITY_LOW,
    }
    lows = {}
    for task, given in (("entity", entity_low), ("relation", relation_low)):
        if given is None:
            lows[task] = min(defaults[task], current[task])
            continue
        if not math.isfinite(given):
            raise ConfigurationError(f"--min-{task}-threshold must be a finite number, got {given}")
        if given > current[task]:
            raise ConfigurationError(
                f"--min-{task}-threshold {given:g} is above the current {task} theta {current[task]:g}: "
                "the curve must reach down to it"
            )
        lows[task] = given
    return lows


def threshold_report(
    archive_file: str,
    data_file: str,
    cuda_device: int = -1,
    batch_size: int = 32,
    entity_low: Optional[float] = None,
    relation_low: Optional[float] = None,
    wanted_precisions: Sequence[float] = (),
    overrides: str = "",
    max_entities_per_sentence: int = MAX_ENTITIES_PER_SENTENCE,
    entity_threshold: Optional[float] = None,
    precision: str = AUTO,
) -> Dict[str, Any]:
    """
    Predicts `data_file` (labelled, read with the archive's reader) at the low bounds and returns
    the report of both tasks (`task_report`). `entity_threshold` replaces the model's entity theta,
    the one the relation curve is measured at. `precision` is the arithmetic of prediction, as the
    predictor's argument of that name (`inference.precision`; `"auto"`: prediction's default);
    the report names the mode used (`precision`) and the one asked (`precision_asked`).
    """
    import torch

    from spert_mt_plugin.archives import load_archive
    from spert_mt_plugin.models.label_index import LabelIndex
    from spert_mt_plugin.models.spert_mt import SpertMT

    archive = load_archive(archive_file, cuda_device=cuda_device, overrides=overrides)
    model = archive.model
    if not isinstance(model, SpertMT):
        raise ConfigurationError(f"{archive_file}: not a spert-mt model ({type(model).__name__})")
    model.eval()
    # Prepared as the predictor prepares it: the figures are those of the predictions a chosen theta gives.
    arithmetic = prepare_model(model, precision)
    if entity_threshold is not None:
        model.set_thresholds(entity=entity_threshold)
    current = model.thresholds
    # The config's switch tells the kind of heads, hence of scores (the model's default: multi-task).
    multitask = bool(archive.config.as_dict(quiet=True)["model"].get("multitask", True))
    lows = low_bounds(multitask, current, entity_low, relation_low)

    reader = archive.validation_dataset_reader
    metadata = [instance["metadata"].metadata for instance in reader.read(data_file)]
    if not metadata:
        raise ConfigurationError(f"{data_file}: no sentences")
    if any("entities" not in m for m in metadata):
        raise ConfigurationError(f"{data_file}: not labelled (no gold entities and relations to compare with)")
    batches = length_batches(metadata, batch_size)
    logger.info("predicting %d sentences of %s in %s", len(metadata), data_file, arithmetic.name)
    try:
        with torch.no_grad(), arithmetic.forward():
            # The relation curve: the current entities, every relation from the low bound up.
            model.set_thresholds(current["entity"], lows["relation"])
            entities, relations = predict_batches(model, reader, metadata, batches)
            low_entities = entities
            if lows["entity"] < current["entity"]:
                # The entity curve: every entity from the low bound up; no relation is kept, but
                # the relation head still scores their pairs, hence the limit.
                model.set_thresholds(lows["entity"], math.inf)
                low_entities, _ = predict_batches(
                    model, reader, metadata, batches, max_entities_per_sentence, data_file
                )
    finally:
        model.set_thresholds(current["entity"], current["relation"])

    curves = {
        "entity": entity_curve(low_entities, metadata, lows["entity"]),
        "relation": relation_curve(
            entities, relations, metadata, LabelIndex(model.vocab).symmetric, current["entity"], lows["relation"]
        ),
    }
    report: Dict[str, Any] = {
        "archive": archive_file,
        "data": data_file,
        "overrides": overrides or None,
        "precision": arithmetic.name,
        "precision_asked": precision or AUTO,
    }
    for task, _ in TASKS:
        report[task] = task_report(
            curves[task], current[task], wanted_precisions, "margin" if multitask else "probability"
        )
    report["relation"]["entity_theta"] = current["entity"]
    return report


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
    report = threshold_report(
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

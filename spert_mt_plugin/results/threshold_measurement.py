"""
What each threshold theta gives on a labelled file, measured for `allennlp spert-thresholds`
(`commands/thresholds.py`): the precision-recall curves of entities and of relations against theta
and the report built from them (`score_curves.task_report`), without retraining (docs/scores.md).

Two predictions of the file give every theta above chosen low bounds exactly:

- an entity's score depends only on its span and sentence, and a relation's score only on its two
  arguments and sentence, not on which other entities were predicted;
- entities are taken in descending score (every accepted span, or greedily the best-scoring
  non-overlapping ones when decoding flat), so the entities predicted at a higher theta are those
  predicted at the low bound that score at least theta; the relations are those that score at
  least theta_r between surviving entities.

So the entity curve comes from one prediction at the low entity bound (relations left out), the
relation curve from one at the current entity theta and the low relation bound, each filtered
(`score_curves.filter_predictions`) and scored as `allennlp evaluate` scores (`score_curves`).
Both predictions are made in the arithmetic asked, prepared as the predictor prepares it
(`inference.precision.prepare_model`), so that the figures are those of the predictions the chosen
theta gives.
"""

import logging
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.inference.precision import AUTO, prepare_model
from spert_mt_plugin.results.score_curves import Sentences, entity_curve, relation_curve, task_report
from spert_mt_plugin.results.threshold_report import TASKS

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


def measure_thresholds(
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

"""
What a user may set around prediction, in one place for the three ways to predict: the predictor
(`allennlp predict --predictor-args`), the HTTP service (`allennlp spert-serve` flags) and the
spaCy component (its config).

- `PredictionSettings`: the precision, the thresholds and the entity decoding, each `None` for the
  archive's own (the machine's default precision);
- `apply_prediction_settings`: prepares a loaded model for them (the predictor does, for all three);
- `check_batch_limits`: the most sentences and words per forward pass, each at least 1;
- `add_prediction_arguments` / `prediction_settings_from_args`: the same settings as command-line
  flags (`spert-serve`); `add_precision_argument`, the `--precision` flag alone.
"""

import argparse
from typing import NamedTuple, Optional

from allennlp.common.checks import ConfigurationError
from torch import nn

from spert_mt_plugin.inference.precision import AUTO, PRECISIONS, Precision, prepare_model
from spert_mt_plugin.models.entity_nesting import ENTITY_DECODINGS

ENTITY_DECODING_HELP = (
    "flat: no two entities share a word; nested: every accepted span; default: the model's "
    "(docs/serving.md, Flat or nested entities)"
)
PRECISION_HELP = (
    "arithmetic of prediction; auto: bfloat16 on CPUs with AMX, onnx on other CPUs (without "
    "onnxruntime: bfloat16 where native, else float32), float32 on GPUs (docs/speed.md, Precision modes)"
)


class PredictionSettings(NamedTuple):
    """
    precision : `str`, optional
        `float32`, `bfloat16`, `onnx` or `onnx-int8`; `None` / `"auto"` for the fastest mode whose
        F1 stays within 0.3 of float32's on this machine (`inference.precision`, docs/speed.md).
    entity_threshold, relation_threshold : `float`, optional
        The least score an entity / a relation needs, replacing the model's (`SpertMT.set_thresholds`,
        docs/scores.md); `allennlp spert-thresholds` shows what each value gives on a labelled file.
    entity_decoding : `str`, optional
        `"flat"` (no two entities share a word), `"nested"` or `"auto"`, replacing the model's
        `entity_decoding` (docs/serving.md, "Flat or nested entities").
    """

    precision: Optional[str] = None
    entity_threshold: Optional[float] = None
    relation_threshold: Optional[float] = None
    entity_decoding: Optional[str] = None


def apply_prediction_settings(model: nn.Module, settings: PredictionSettings) -> Precision:
    """
    Prepares `model` (a loaded spert-mt model, in place) for `settings` and returns its precision,
    whose `forward()` is the context its forward passes run in.
    """
    precision = prepare_model(model, settings.precision)
    if settings.entity_threshold is not None or settings.relation_threshold is not None:
        model.set_thresholds(settings.entity_threshold, settings.relation_threshold)  # type: ignore[operator]
    if settings.entity_decoding is not None:
        model.entity_decoding = settings.entity_decoding
    return precision


def check_batch_limits(**limits: int) -> None:
    """A `ConfigurationError` naming the first of `limits` (by name) below 1."""
    for name, value in limits.items():
        if value < 1:
            raise ConfigurationError(f"{name} must be at least 1, got {value}")


def add_prediction_arguments(parser: argparse.ArgumentParser) -> None:
    """
    The `PredictionSettings` as command-line flags: `--entity-threshold`, `--relation-threshold`,
    `--entity-decoding` and `--precision`.
    """
    for kind, example in (("entity", "1.2"), ("relation", "1.0")):
        parser.add_argument(
            f"--{kind}-threshold",
            type=float,
            default=None,
            metavar="THETA",
            help=f"the least score a predicted {kind} needs, instead of the model's (e.g. {example}; a margin "
            "score for SpERT.MT, a probability for SpERT's heads); allennlp spert-thresholds shows what each "
            "value gives on a labelled file (docs/scores.md)",
        )
    parser.add_argument("--entity-decoding", choices=ENTITY_DECODINGS, default=None, help=ENTITY_DECODING_HELP)
    add_precision_argument(parser)


def add_precision_argument(parser: argparse.ArgumentParser, help: str = PRECISION_HELP) -> None:
    """The `--precision` flag: a mode of `inference.precision`, or `auto` (the default)."""
    parser.add_argument("--precision", choices=PRECISIONS + (AUTO,), default=AUTO, help=help)


def prediction_settings_from_args(args: argparse.Namespace) -> PredictionSettings:
    """The settings given by the flags of `add_prediction_arguments`."""
    return PredictionSettings(args.precision, args.entity_threshold, args.relation_threshold, args.entity_decoding)

"""`inference.prediction_settings`: what the predictor, the service and the spaCy component let a user set."""

import argparse

import pytest
import torch
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.inference.precision import Precision
from spert_mt_plugin.inference.prediction_settings import (
    PredictionSettings,
    add_prediction_arguments,
    apply_prediction_settings,
    check_batch_limits,
    prediction_settings_from_args,
)


class Model(torch.nn.Module):
    """A model's prediction settings: thresholds and decoding, as `SpertMT` has them."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.thresholds = {"entity": 0.85, "relation": 0.85}
        self.entity_decoding = "auto"

    def set_thresholds(self, entity=None, relation=None):
        for name, value in (("entity", entity), ("relation", relation)):
            if value is not None:
                self.thresholds[name] = value


def test_settings_replace_the_models_own_and_none_keeps_them():
    model = Model()
    assert apply_prediction_settings(model, PredictionSettings("float32")) == Precision("float32", "cpu")
    assert model.thresholds == {"entity": 0.85, "relation": 0.85} and model.entity_decoding == "auto"
    apply_prediction_settings(model, PredictionSettings("float32", relation_threshold=1.5, entity_decoding="flat"))
    assert model.thresholds == {"entity": 0.85, "relation": 1.5} and model.entity_decoding == "flat"


def test_batch_limits_below_one_are_named():
    check_batch_limits(batch_size=1, max_batch_words=2048)
    with pytest.raises(ConfigurationError) as error:
        check_batch_limits(batch_size=1, max_batch_words=0, max_sentence_words=-1)
    assert str(error.value) == "max_batch_words must be at least 1, got 0"


def test_the_flags_give_the_settings():
    parser = argparse.ArgumentParser()
    add_prediction_arguments(parser)
    assert prediction_settings_from_args(parser.parse_args([])) == PredictionSettings("auto", None, None, None)
    flags = ["--entity-threshold=-5", "--relation-threshold", "1", "--entity-decoding", "nested", "--precision", "onnx"]
    assert prediction_settings_from_args(parser.parse_args(flags)) == PredictionSettings("onnx", -5.0, 1.0, "nested")
    with pytest.raises(SystemExit):
        parser.parse_args(["--entity-decoding", "greedy"])

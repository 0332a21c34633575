"""The `allennlp` command finds the plugin through .allennlp_plugins and knows its names."""

import subprocess
import sys

from allennlp.common.plugins import discover_plugins
from allennlp.data import DatasetReader, TokenIndexer, Vocabulary
from allennlp.models import Model
from allennlp.predictors import Predictor
from allennlp.training.learning_rate_schedulers import LearningRateScheduler
from allennlp.training.metrics import Metric
from allennlp.training.optimizers import Optimizer

from tests.conftest import PROJECT_ROOT


def registrations():
    """(registrable base, name, the class it must resolve to) for every name the package registers."""
    from allennlp.commands.subcommand import Subcommand
    from allennlp.training.callbacks import TrainerCallback
    from allennlp.training.checkpointer import Checkpointer

    from spert_mt_plugin.commands.convert import Convert
    from spert_mt_plugin.commands.experiments import Experiments
    from spert_mt_plugin.commands.label_studio_backend import LabelStudioBackend
    from spert_mt_plugin.commands.plot import Plot
    from spert_mt_plugin.commands.predict_corpus import PredictCorpus
    from spert_mt_plugin.commands.serve import Serve
    from spert_mt_plugin.commands.sweep import Sweep
    from spert_mt_plugin.commands.thresholds import Thresholds
    from spert_mt_plugin.dataset_readers import (
        BratReader,
        DoccanoReader,
        DygieJsonlReader,
        LabelStudioReader,
        SpertJsonReader,
    )
    from spert_mt_plugin.dataset_readers.sentence_word_pieces import SentenceWordPieceIndexer
    from spert_mt_plugin.metrics.typed_set_f1 import NerF1, RelationF1, TypedSetF1
    from spert_mt_plugin.models.spert_mt import SpertMT
    from spert_mt_plugin.predictors.spert_mt import SpertMTPredictor
    from spert_mt_plugin.training.checkpointer import AtomicCheckpointer
    from spert_mt_plugin.training.linear_warmup import LinearWarmupFraction
    from spert_mt_plugin.training.optimizer import SpertAdamW
    from spert_mt_plugin.training.progress import ProgressCallback
    from spert_mt_plugin.training.random_state import RandomStateCallback
    from spert_mt_plugin.vocabulary import TypesFileVocabulary

    return [
        (DatasetReader, "spert_json", SpertJsonReader),
        (DatasetReader, "dygie_jsonl", DygieJsonlReader),
        (DatasetReader, "brat", BratReader),
        (DatasetReader, "doccano", DoccanoReader),
        (DatasetReader, "label_studio", LabelStudioReader),
        (TokenIndexer, "spert_mt_mismatched", SentenceWordPieceIndexer),
        (Vocabulary, "spert_types", TypesFileVocabulary),
        (Model, "spert_mt", SpertMT),
        (Predictor, "spert_mt", SpertMTPredictor),
        (Metric, "typed_set_f1", TypedSetF1),
        (Metric, "ner_f1", NerF1),
        (Metric, "relation_f1", RelationF1),
        (Optimizer, "spert_adamw", SpertAdamW),
        (LearningRateScheduler, "linear_warmup_fraction", LinearWarmupFraction),
        (TrainerCallback, "spert_progress", ProgressCallback),
        (TrainerCallback, "spert_random_state", RandomStateCallback),
        (Checkpointer, "spert_atomic", AtomicCheckpointer),
        (Subcommand, "spert-experiments", Experiments),
        (Subcommand, "spert-plot", Plot),
        (Subcommand, "spert-sweep", Sweep),
        (Subcommand, "spert-convert", Convert),
        (Subcommand, "spert-serve", Serve),
        (Subcommand, "spert-thresholds", Thresholds),
        (Subcommand, "spert-predict-corpus", PredictCorpus),
        (Subcommand, "spert-label-studio-backend", LabelStudioBackend),
    ]


def test_importing_the_plugin_registers_every_name_to_its_class():
    import spert_mt_plugin  # noqa: F401

    for base, name, cls in registrations():
        # resolve() gives (class, constructor name); a name taken by another class would differ here.
        assert base.resolve_class_name(name)[0] is cls, f"{base.__name__} {name!r}"


def test_every_registration_in_the_package_is_checked():
    import re

    registered = set()
    for path in (PROJECT_ROOT / "spert_mt_plugin").rglob("*.py"):
        registered.update(re.findall(r'@\w+\.register\("([^"]+)"', path.read_text()))
    assert registered == {name for _, name, _ in registrations()}


def test_plugins_file_names_the_package():
    assert list(discover_plugins()) == ["spert_mt_plugin"]


def test_allennlp_command_loads_the_plugin_without_errors():
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0
    assert "could not be loaded" not in result.stderr
    assert "spert-serve" in result.stdout
    assert "spert-plot" in result.stdout and "spert-experiments" in result.stdout
    # no NLTK download attempt (allennlp-models' NarrativeQA tool, imported at start-up; setup_env.sh)
    assert "nltk_data" not in result.stderr + result.stdout


def test_configs_build_with_defaults():
    # Every shipped experiment config evaluates with the plugin's default external variables.
    import json

    import _jsonnet
    from allennlp.common.params import _environment_variables

    import spert_mt_plugin  # noqa: F401
    from spert_mt_plugin.configs import LIBRARY

    for config in sorted((PROJECT_ROOT / "training_configs").glob("*.jsonnet")):
        params = json.loads(
            _jsonnet.evaluate_file(str(config), jpathdir=[str(LIBRARY)], ext_vars=_environment_variables())
        )
        assert params["model"]["type"] == "spert_mt", config.name
        assert params["model"]["embedder"]["model_name"], config.name
        # no dump of the first batch's tensors in the logs (AllenNLP's default console_logger callback)
        assert params["trainer"]["enable_default_callbacks"] is False, config.name


def test_shipped_configs_train_spert_mt_and_ablations_alike_and_the_baseline_as_spert():
    # SpERT.MT and its ablations: head_lr 1e-3 and summed losses, differing in one model switch;
    # the SpERT baseline: SpERT's heads, one learning rate and averaged losses.
    from allennlp.common import Params

    import spert_mt_plugin  # noqa: F401

    configs = PROJECT_ROOT / "training_configs"
    full = Params.from_file(str(configs / "scierc.jsonnet")).as_dict()
    for name, switch in (
        ("no_mtl", "multitask"),
        ("no_eil", "iou_scaled_identification"),
        ("no_entity_logits", "entity_logits"),
    ):
        ablation = Params.from_file(str(configs / f"scierc_{name}.jsonnet")).as_dict()
        assert ablation["trainer"] == full["trainer"], name
        differing = {k for k in full["model"] if full["model"][k] != ablation["model"][k]}
        assert differing == {switch}, name
    optimizer = full["trainer"]["optimizer"]
    assert optimizer["type"] == "spert_adamw" and optimizer["head_lr"] == 1e-3 and optimizer["lr"] == 5e-5
    assert optimizer["eps"] == 1e-6 and optimizer["correct_bias"] is False
    assert full["model"]["loss_reduction"] == "sum"
    for dataset in ("conll04", "scierc", "ade"):
        baseline = Params.from_file(str(configs / f"{dataset}_spert.jsonnet")).as_dict()
        model = baseline["model"]
        assert not (model["multitask"] or model["iou_scaled_identification"] or model["entity_logits"])
        assert model["loss_reduction"] == "mean" and model["relation_probability_threshold"] == 0.4
        assert baseline["trainer"]["optimizer"]["head_lr"] == baseline["trainer"]["optimizer"]["lr"] == 5e-5

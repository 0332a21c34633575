"""
The jsonnet library of the experiment configs (`spert_mt.libsonnet`: every hyperparameter of
SPEC.md, the experiment template, the ablations and the SpERT baseline), shipped inside the package
so that a config copied to any folder finds it: `import 'spert_mt.libsonnet'` looks in this folder
after the config's own.

AllenNLP evaluates configs with `_jsonnet.evaluate_file` and no library path of its own; loading
the plugin adds this folder to the library path of every config AllenNLP reads.
"""

from pathlib import Path

import allennlp.common.params

LIBRARY = Path(__file__).resolve().parent


def evaluate_file(filename: str, **kwargs) -> str:
    """
    `_jsonnet.evaluate_file` with this folder on the library path (after any given); the encoder
    SPERT_ENCODER chose is vetted before AllenNLP acts on the config (`settings.check_encoders`).
    """
    from spert_mt_plugin.settings import check_encoders

    paths = kwargs.pop("jpathdir", None) or []
    paths = [paths] if isinstance(paths, str) else list(paths)
    config = _evaluate_file(filename, jpathdir=paths + [str(LIBRARY)], **kwargs)
    # Plain JSON (a run's or an archive's config.json) reads no variable: its encoder is its own.
    if not str(filename).endswith(".json"):
        check_encoders(config, kwargs.get("ext_vars") or {})
    return config


_evaluate_file = allennlp.common.params.evaluate_file


def add_library_path() -> None:
    """Makes AllenNLP's `Params.from_file` find `spert_mt.libsonnet` from any folder (idempotent)."""
    allennlp.common.params.evaluate_file = evaluate_file

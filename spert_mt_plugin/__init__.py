"""
spert-mt: SpERT.MT joint entity and relation extraction as an AllenNLP plugin.

AllenNLP imports plugins non-recursively, so importing this package registers everything:
dataset readers, vocabulary, model, metrics, scheduler, predictor and subcommands. It also fills
in the defaults of the SPERT_* variables the configs read (see `settings`).
"""

from spert_mt_plugin.cli_errors import install_for_allennlp_command
from spert_mt_plugin.configs import add_library_path
from spert_mt_plugin.settings import apply_defaults

apply_defaults()
add_library_path()
install_for_allennlp_command()

from spert_mt_plugin import (  # noqa: E402,F401
    commands,
    dataset_readers,
    metrics,
    models,
    predictors,
    training,
    vocabulary,
)

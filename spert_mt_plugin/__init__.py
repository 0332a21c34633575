"""
spert-mt: SpERT.MT joint entity and relation extraction as an AllenNLP plugin.

AllenNLP imports plugins non-recursively, so importing this package registers everything:
dataset readers, vocabulary, model, metrics, scheduler, predictor and, under the `allennlp`
command, the subcommands. It also fills in the defaults of the SPERT_* variables the configs
read (see `settings`).
"""
import sys

from spert_mt_plugin.settings import apply_defaults

apply_defaults()

from spert_mt_plugin import (  # noqa: E402,F401
    dataset_readers,
    metrics,
    models,
    predictors,
    training,
    vocabulary,
)

# `allennlp.commands` (every built-in subcommand) costs seconds to import. The `allennlp` command
# has imported it before it loads plugins; a Python user of the model or predictor never needs it.
if "allennlp.commands" in sys.modules:
    from spert_mt_plugin import commands  # noqa: F401

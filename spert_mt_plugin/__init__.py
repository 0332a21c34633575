"""
spert-mt: SpERT.MT joint entity and relation extraction as an AllenNLP plugin.

AllenNLP imports plugins non-recursively, so importing this package registers everything:
dataset readers, vocabulary, model, metrics, scheduler, predictor and subcommands. It also fills
in the defaults of the SPERT_* variables the configs read (see `settings`).
"""

import warnings

# Importing allennlp 2.10 on torch 2.14 prints FutureWarnings about torch's own deprecated APIs
# (fairscale's custom_fwd/custom_bwd, allennlp's TorchScript and AMP calls) that no user of
# spert-mt can act on; only these messages are silenced.
for _message in (
    r"`torch\.cuda\.amp\.(custom_fwd|custom_bwd|autocast)\(args\.\.\.\)` is deprecated",
    r"`torch\.jit\.script` is deprecated",
):
    warnings.filterwarnings("ignore", message=_message, category=FutureWarning)

from spert_mt_plugin.cli_errors import install_for_allennlp_command  # noqa: E402
from spert_mt_plugin.configs import add_library_path  # noqa: E402
from spert_mt_plugin.settings import apply_defaults  # noqa: E402

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

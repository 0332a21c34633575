"""The package's subcommands: help texts that show each default once and name what users need."""

import argparse

import pytest
from allennlp.commands import ArgumentParserWithDefaults

from spert_mt_plugin.commands.convert import Convert
from spert_mt_plugin.commands.experiments import Experiments
from spert_mt_plugin.commands.label_studio_backend import LabelStudioBackend
from spert_mt_plugin.commands.plot import Plot
from spert_mt_plugin.commands.serve import Serve
from spert_mt_plugin.commands.sweep import Sweep
from spert_mt_plugin.commands.thresholds import Thresholds

COMMANDS = [Convert, Experiments, LabelStudioBackend, Plot, Serve, Sweep, Thresholds]


def subparser(command) -> argparse.ArgumentParser:
    parser = ArgumentParserWithDefaults()
    return command().add_subparser(parser.add_subparsers())


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.__name__)
def test_each_default_is_shown_once(command):
    # AllenNLP's help formatter appends "(default = X)" to every option with a default; a help
    # text that also says "(default: X)" showed it twice.
    for action in subparser(command)._actions:
        if action.default not in (None, [], (), "", False, argparse.SUPPRESS) and action.help:
            assert "(default:" not in action.help, f"{command.__name__} {action.option_strings}"


def test_experiments_help_names_the_run_folders_and_the_variables():
    help_text = " ".join(subparser(Experiments).format_help().split())
    assert "OUTPUT_DIR/<config name>/seed_<seed>" in help_text
    assert "SPERT_DATA_DIR" in help_text and "SPERT_EPOCHS" in help_text


def test_plot_help_says_runs_need_a_validation_split_and_how_epochs_count():
    help_text = " ".join(subparser(Plot).format_help().split())
    assert "validation split" in help_text and "best_epoch 0 in metrics.json is epoch 1" in help_text


def test_thresholds_help_says_what_a_score_is_and_that_curves_stop_at_the_low_bounds():
    help_text = " ".join(subparser(Thresholds).format_help().split())
    assert "a margin score for SpERT.MT's heads" in help_text and "a probability for SpERT's" in help_text
    assert "the curves cannot extend below the low bounds" in help_text
    assert "--max-entities-per-sentence" in help_text and "docs/scores.md" in help_text

import argparse
import json
import os
import subprocess
import sys

import pytest

from spert_mt_plugin import cli_errors
from spert_mt_plugin.commands.plot import (
    Plot,
    kept_epoch,
    learning_curve,
    plot_learning_curves,
    reaching_lines,
    run_labels,
)
from spert_mt_plugin.results.runs import ResultsError
from tests.conftest import PROJECT_ROOT


def write_run(folder, values, validation=True, best_epoch=None):
    folder.mkdir(parents=True)
    for epoch, (ner, rel) in enumerate(values):
        metrics = {"epoch": epoch, "training_loss": 1.0 / (epoch + 1)}
        if best_epoch is not None:
            metrics["best_epoch"] = min(epoch, best_epoch)
        if validation:
            metrics.update(validation_ner_f1=ner, validation_rel_f1=rel, validation_rel_strict_f1=rel / 2)
        (folder / f"metrics_epoch_{epoch}.json").write_text(json.dumps(metrics))
    return folder


def test_learning_curves_are_read_per_epoch_in_order_and_drawn(tmp_path):
    values = [
        (0.1, 0.0),
        (0.5, 0.2),
        (0.7, 0.4),
        (0.72, 0.45),
        (0.8, 0.5),
        (0.81, 0.55),
        (0.82, 0.6),
        (0.83, 0.6),
        (0.84, 0.61),
        (0.85, 0.62),
        (0.855, 0.63),
    ]  # 11 epochs: epoch 10 must sort after epoch 9
    mt = write_run(tmp_path / "runs" / "spert_mt", values)
    baseline = write_run(tmp_path / "runs" / "spert", [(0.2, 0.1), (0.6, 0.3)])
    curve = learning_curve(mt)
    assert [epoch for epoch, _ in curve["ner"]] == list(range(1, 12))
    assert curve["rel"][-1] == (11, pytest.approx(63.0))
    assert curve["rel_strict"][1] == (2, pytest.approx(10.0))
    output = tmp_path / "plots" / "curves.png"
    curves = plot_learning_curves([str(mt), str(baseline)], str(output))
    assert set(curves) == {"spert_mt", "spert"}
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_without_validation_metrics_is_named(tmp_path):
    run = write_run(tmp_path / "no_dev", [(0.5, 0.2)], validation=False)
    with pytest.raises(ValueError, match="no_dev.*validation_ner_f1"):
        learning_curve(run)
    with pytest.raises(ValueError, match="empty.*metrics_epoch"):
        (tmp_path / "empty").mkdir()
        learning_curve(tmp_path / "empty")


def test_the_kept_epoch_is_read_and_early_epochs_can_be_left_out(tmp_path):
    # AllenNLP writes best_epoch 0-based into every metrics file; the last file's value is the kept one
    run = write_run(tmp_path / "run", [(0.1, 0.0), (0.6, 0.3), (0.7, 0.5), (0.65, 0.45)], best_epoch=2)
    assert kept_epoch(run) == 3
    assert kept_epoch(write_run(tmp_path / "old", [(0.1, 0.0)])) is None
    curves = plot_learning_curves([str(run)], str(tmp_path / "late.png"), labels=["mt"], from_epoch=3)
    assert curves["mt"]["ner"] == [(3, pytest.approx(70.0)), (4, pytest.approx(65.0))]
    with pytest.raises(ValueError, match="run: no epoch at or after --from-epoch 5"):
        plot_learning_curves([str(run)], str(tmp_path / "none.png"), from_epoch=5)


def test_the_epoch_each_run_reaches_the_reference_runs_final_figures(tmp_path):
    baseline = write_run(tmp_path / "spert", [(0.5, 0.2), (0.7, 0.4), (0.8, 0.5)])
    fast = write_run(tmp_path / "spert_mt", [(0.6, 0.1), (0.8, 0.45), (0.81, 0.5), (0.82, 0.6)])
    slow = write_run(tmp_path / "slow", [(0.6, 0.1), (0.79, 0.6)])
    curves = plot_learning_curves(
        [str(baseline), str(fast), str(slow)], str(tmp_path / "c.png"), labels=["SpERT", "SpERT.MT", "slow"]
    )
    assert reaching_lines(curves, "SpERT") == [
        "SpERT.MT reaches SpERT's NER F1 80.00 (its epoch 3) at epoch 2; RE F1 50.00 (its epoch 3) at epoch 3",
        "slow reaches SpERT's NER F1 80.00 (its epoch 3) not within its 2 epochs; RE F1 50.00 (its epoch 3) at epoch 2",
    ]
    with pytest.raises(ValueError, match="--reference 'x' is not one of the runs' labels"):
        reaching_lines(curves, "x")


def run_plot(argv):
    parser = argparse.ArgumentParser()
    Plot().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["spert-plot", *argv])
    args.func(args)


def test_user_errors_are_results_errors_naming_the_run_or_setting(tmp_path):
    run = write_run(tmp_path / "run", [(0.5, 0.2), (0.6, 0.3)])
    output = tmp_path / "c.png"
    with pytest.raises(ResultsError) as error:
        run_plot([str(run), "-o", str(output), "--labels", "a", "b"])
    assert str(error.value) == "--labels: 2 labels for 1 runs"
    with pytest.raises(ResultsError) as error:
        run_plot([str(run), str(tmp_path / "missing"), "-o", str(output)])
    assert str(error.value) == f"{tmp_path / 'missing'}: no such folder"
    torn = write_run(tmp_path / "torn", [(0.5, 0.2)])
    (torn / "metrics_epoch_1.json").write_text('{"epoch": 1, "validation_ner')
    with pytest.raises(ResultsError, match=r"torn/metrics_epoch_1.json: not a JSON metrics file \(Unterminated"):
        run_plot([str(torn), "-o", str(output)])
    with pytest.raises(ResultsError) as error:
        run_plot([str(run), str(run), "-o", str(output), "--labels", "x", "x"])
    assert str(error.value) == f"runs {run} and {run} both have the label 'x' (--labels names each run)"
    with pytest.raises(ResultsError) as error:
        run_plot([str(run), "-o", str(tmp_path / "c.txt")])
    assert str(error.value).startswith(f"{tmp_path / 'c.txt'}: matplotlib cannot write .txt images (give one of: ")
    # a wrong --reference is found before the image is drawn
    with pytest.raises(ResultsError) as error:
        run_plot([str(run), "-o", str(output), "--reference", "nope"])
    assert str(error.value) == "--reference 'nope' is not one of the runs' labels: run"
    assert not output.exists() and not (tmp_path / "c.txt").exists()


def test_labels_default_to_the_paths_below_the_common_folder(tmp_path):
    runs = [str(tmp_path / "a" / "seed_1"), str(tmp_path / "b" / "seed_1")]
    assert run_labels(runs) == ["a/seed_1", "b/seed_1"]
    assert run_labels(runs, ["A", "B"]) == ["A", "B"]


@pytest.mark.parametrize(
    "case, message",
    [
        ("empty", "{tmp}/empty: no metrics_epoch_*.json (not an AllenNLP run folder, or no epoch finished)"),
        ("no_dev", "{tmp}/no_dev: the epochs have no validation_ner_f1 (was it trained without a validation split?)"),
        ("labels", "--labels: 2 labels for 1 runs"),
    ],
)
def test_each_user_error_is_one_the_command_hook_prints_as_one_line(tmp_path, case, message):
    (tmp_path / "empty").mkdir()
    write_run(tmp_path / "no_dev", [(0.5, 0.2)], validation=False)
    run = write_run(tmp_path / "run", [(0.5, 0.2)])
    arguments = {
        "empty": [str(tmp_path / "empty")],
        "no_dev": [str(tmp_path / "no_dev")],
        "labels": [str(run), "--labels", "a", "b"],
    }[case]
    with pytest.raises(ResultsError) as error:
        run_plot([*arguments, "-o", str(tmp_path / "c.png")])
    assert cli_errors.is_known(error.value)
    assert cli_errors.one_line(error.value) == message.format(tmp=tmp_path)
    assert not (tmp_path / "c.png").exists()


@pytest.mark.slow
def test_the_command_ends_a_user_error_with_one_line(tmp_path):
    write_run(tmp_path / "no_dev", [(0.5, 0.2)], validation=False)
    command = [sys.executable, "-m", "allennlp", "spert-plot", str(tmp_path / "no_dev"), "-o", str(tmp_path / "c.png")]
    environment = {key: value for key, value in os.environ.items() if key != cli_errors.DEBUG_VARIABLE}
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, env=environment)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-2:] == [
        f"allennlp spert-plot: error: {tmp_path}/no_dev: the epochs have no validation_ner_f1 "
        "(was it trained without a validation split?)",
        "(SPERT_DEBUG=1 shows the traceback)",
    ]


def write_comparison_table(path, differences=(0.01, -0.02, 0.03)):
    mean = sum(differences) / len(differences)
    task = {"mean": mean, "ci95": [mean - 0.02, mean + 0.02], "differences": list(differences), "p_value": 0.5}
    comparison = {
        "a": "mt",
        "b": "spert",
        "pairs": [[f"mt (seed {s})", f"spert (seed {s})"] for s in range(13, 13 + len(differences))],
        "tasks": {"NER": task, "RE": task, "RE strict": task},
    }
    path.write_text(json.dumps({"configs": {}, "comparisons": [comparison]}))
    return str(path)


def test_the_paired_differences_of_kept_tables_are_drawn_and_printed(tmp_path, capsys):
    nested = write_comparison_table(tmp_path / "table1.json")
    flat = write_comparison_table(tmp_path / "table1_flat.json", (0.02, 0.0, 0.01))
    output = tmp_path / "differences.png"
    run_plot(["--differences", nested, flat, "--labels", "nested", "flat", "--claim", "RE", "2.1", "-o", str(output)])
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "nested NER: mean +0.67 [−1.33, +2.67], p 0.5000; per pair: 13 +1.00, 14 −2.00, 15 +3.00"
    assert printed[3].startswith("flat RE: mean +1.00 [−1.00, +3.00]")
    assert printed[-1] == f"wrote {output}"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["RUN", "--differences", "TABLE"], "give run folders (learning curves) or --differences TABLE_JSON, not both"),
        ([], "no run folders to plot (or --differences TABLE_JSON)"),
        (["--differences", "TABLE", "--labels", "a", "b"], "--labels: 2 labels for 1 tables"),
        (
            ["--differences", "TABLE", "--claim", "RE", "a lot"],
            "--claim RE a lot: the gain must be a number of F1 points",
        ),
        (["--differences", "TABLE", "--claim", "NRE", "1"], "--claim NRE: not a drawn task (NER or RE)"),
        (["--differences", "MISSING"], "MISSING: no such file"),
    ],
)
def test_a_wrong_differences_call_is_a_one_line_error_and_draws_nothing(tmp_path, arguments, message):
    run = write_run(tmp_path / "run", [(0.5, 0.2)])
    table = write_comparison_table(tmp_path / "table.json")
    names = {"RUN": str(run), "TABLE": table, "MISSING": str(tmp_path / "missing.json")}
    output = tmp_path / "d.png"
    with pytest.raises(ResultsError) as error:
        run_plot([names.get(a, a) for a in arguments] + ["-o", str(output)])
    assert cli_errors.is_known(error.value)
    assert str(error.value) == message.replace("MISSING", names["MISSING"])
    assert not output.exists()

import gzip
import json
import os

import pytest

from spert_mt_plugin.commands.experiments import run_experiments, run_settings
from spert_mt_plugin.results.comparison import count_matrices, f1_of_counts, prediction_metrics
from spert_mt_plugin.results.predictions import read_predictions
from spert_mt_plugin.results.runs import PREDICTIONS_FILE, ResultsError, Run, UnfinishedRuns
from spert_mt_plugin.results.tables import convention, markdown_table
from tests.conftest import FIXTURES, PROJECT_ROOT
from tests.results.test_tables import fake_metrics

CONFIG = str(FIXTURES / "experiment.jsonnet")


def test_finished_runs_are_not_trained_again(tmp_path):
    finished = tmp_path / "experiment" / "seed_1"
    finished.mkdir(parents=True)
    (finished / "metrics.json").write_text(json.dumps(fake_metrics(0.9, 0.8)))
    trained = []

    def fake_train(run, directory, epochs):
        trained.append(run.seed)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "metrics.json").write_text(json.dumps(fake_metrics(0.5, 0.4)))

    results = run_experiments([CONFIG], [1, 2], None, tmp_path, epochs=1, train=fake_train)
    assert trained == [2]
    entry = results["configs"]["experiment"]
    assert entry["average"] == "micro"
    assert entry["summary"]["rel_f1"]["mean"] == pytest.approx(0.7)
    table = (tmp_path / "results.md").read_text()
    assert "| experiment (seed 1) | 90.00" in table and "70.00 ± 28.28" in table
    assert "**mean ± std (2 runs)**" in table
    assert json.loads((tmp_path / "results.json").read_text())["configs"]["experiment"]["runs"][1]["seed"] == 2
    single = markdown_table(run_experiments([CONFIG], [1], None, tmp_path, epochs=1, train=fake_train))
    assert "**mean ± std (1 run)**" in single and trained == [2]


def test_a_table_only_call_trains_nothing_and_names_unfinished_runs(tmp_path):
    for seed, value in ((1, 0.9), (2, 0.5)):
        (tmp_path / "experiment" / f"seed_{seed}").mkdir(parents=True)
        (tmp_path / "experiment" / f"seed_{seed}" / "metrics.json").write_text(json.dumps(fake_metrics(value, 0.4)))

    def must_not_train(*args):
        raise AssertionError("a --table-only call trained a run")

    results = run_experiments(
        [CONFIG], [1, 2], None, tmp_path, train=must_not_train, results_name="table2", table_only=True
    )
    assert results["configs"]["experiment"]["summary"]["ner_f1"]["mean"] == pytest.approx(0.7)
    assert "70.00 ± 28.28" in (tmp_path / "table2.md").read_text()
    assert (tmp_path / "table2.json").exists() and not (tmp_path / "results.md").exists()
    # seed 3 is still training elsewhere (or was never started): named, and its folder left alone
    (tmp_path / "experiment" / "seed_3").mkdir()
    with pytest.raises(UnfinishedRuns, match=r"1 run not finished: experiment \(seed 3\) in .*seed_3"):
        run_experiments([CONFIG], [1, 2, 3], None, tmp_path, train=must_not_train, table_only=True)
    assert list((tmp_path / "experiment" / "seed_3").iterdir()) == []


@pytest.mark.slow
def test_two_seeds_end_to_end_and_resume_after_interruption(tmp_path, capsys):
    environment = dict(os.environ)
    results = run_experiments([CONFIG], [1, 2], None, tmp_path, epochs=1)
    # The progress lines are printed; AllenNLP's dump of the first batch is not logged.
    assert "[spert-experiments] experiment (seed 2): epoch 2/2" in capsys.readouterr().err
    # (the run's out.log has the whole log: AllenNLP replaces the console handlers during training)
    assert "batch_input" not in (tmp_path / "experiment" / "seed_1" / "out.log").read_text()
    # Seeds and epochs reach the config as its external variables, never through the environment.
    assert dict(os.environ) == environment
    runs = results["configs"]["experiment"]["runs"]
    assert [r["seed"] for r in runs] == [1, 2]
    assert [
        json.loads((tmp_path / "experiment" / f"seed_{s}" / "config.json").read_text())["random_seed"] for s in (1, 2)
    ] == [1, 2]
    assert all(0.0 <= r["metrics"]["test_rel_f1"] <= 1.0 for r in runs)
    # Each run keeps its test predictions with the gold annotation: scored again they give its test figures.
    for run in runs:
        lines = read_predictions(tmp_path / "experiment" / f"seed_{run['seed']}" / PREDICTIONS_FILE)
        assert len(lines) == 6 and all("gold" in line for line in lines)
        for task in ("ner", "rel", "rel_strict"):
            counts, _ = count_matrices(lines, lines, task)
            assert f1_of_counts(counts.sum(0), "micro") == pytest.approx(run["metrics"][f"test_{task}_f1"])
            assert f1_of_counts(counts.sum(0), "macro") == pytest.approx(run["metrics"][f"test_{task}_macro_f1"])
        # ... and every figure as the model's metric reports it, which --decoding flat checks before decoding again
        recomputed = prediction_metrics(lines)
        assert recomputed == pytest.approx({key: run["metrics"][key] for key in recomputed})
    # An interrupted run (checkpoint but no final metrics) is recovered, the finished one is kept.
    # Predictions without the gold annotation (as `allennlp predict` writes them) are written again.
    predictions = tmp_path / "experiment" / "seed_1" / PREDICTIONS_FILE
    kept = predictions.read_bytes()
    without_gold = [{k: v for k, v in line.items() if k != "gold"} for line in read_predictions(predictions)]
    predictions.write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in without_gold).encode()))
    run_experiments([CONFIG], [1, 2], None, tmp_path, table_only=True)
    assert predictions.read_bytes() == kept  # the same bytes: gzip without a timestamp
    first = (tmp_path / "experiment" / "seed_1" / "metrics.json").stat().st_mtime
    (tmp_path / "experiment" / "seed_2" / "metrics.json").unlink()
    again = run_experiments([CONFIG], [1, 2], None, tmp_path, epochs=1)
    assert (tmp_path / "experiment" / "seed_1" / "metrics.json").stat().st_mtime == first
    assert again["configs"]["experiment"]["runs"][1]["metrics"]["test_rel_f1"] == pytest.approx(
        runs[1]["metrics"]["test_rel_f1"]
    )
    assert "mean ± std (2 runs)" in markdown_table(again)


def test_shipped_configs_select_epochs_by_re_plus_ner_in_the_dataset_convention():
    # RE F1 alone ties at 0 while no relation score reaches θ, and AllenNLP keeps the earliest of
    # tied epochs; the sum with NER F1 breaks the tie. ADE reports macro averages.
    from allennlp.common import Params

    configs = PROJECT_ROOT / "training_configs"
    scierc = Params.from_file(str(configs / "scierc.jsonnet"))
    assert scierc["trainer"]["validation_metric"] == ["+rel_f1", "+ner_f1"]
    ade = Params.from_file(str(configs / "ade.jsonnet"))
    assert ade["trainer"]["validation_metric"] == ["+rel_macro_f1", "+ner_macro_f1"]
    assert convention(str(configs / "ade.jsonnet")) == "macro"
    assert convention(str(configs / "scierc_no_mtl.jsonnet")) == "micro"


def test_export_keeps_configs_and_metrics_but_no_weights(tmp_path):
    runs_dir, kept = tmp_path / "runs", tmp_path / "kept"
    for seed, value in ((1, 0.9), (2, 0.5)):
        run = runs_dir / "experiment" / f"seed_{seed}"
        (run / "vocabulary").mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps(fake_metrics(value, 0.4)))
        for epoch in range(3):
            (run / f"metrics_epoch_{epoch}.json").write_text(json.dumps({"epoch": epoch}))
        (run / "config.json").write_text(json.dumps({"random_seed": seed}))
        (run / PREDICTIONS_FILE).write_bytes(gzip.compress(b'{"gold": {}}\n'))
        (run / "model.tar.gz").write_bytes(b"weights")
        (run / "best.th").write_bytes(b"weights")
    # a stale epoch file from an earlier export of seed 1 is removed
    (kept / "experiment" / "seed_1").mkdir(parents=True)
    (kept / "experiment" / "seed_1" / "metrics_epoch_7.json").write_text("{}")

    results = run_experiments([CONFIG], [1, 2], None, runs_dir, train=None, table_only=True, export_dir=kept)
    exported = sorted(p.name for p in (kept / "experiment" / "seed_1").iterdir())
    assert exported == [
        "config.json",
        "metrics.json",
        "metrics_epoch_0.json",
        "metrics_epoch_1.json",
        "metrics_epoch_2.json",
        "test_predictions.jsonl.gz",
    ]
    assert json.loads((kept / "experiment" / "seed_2" / "config.json").read_text()) == {"random_seed": 2}
    # the table is written into the export as well, and can be rebuilt from it alone
    assert "70.00 ± 28.28" in (kept / "results.md").read_text()
    assert results["configs"]["experiment"]["runs"][0]["directory"] == str(kept / "experiment" / "seed_1")
    again = run_experiments([CONFIG], [1, 2], None, kept, train=None, table_only=True)
    assert again["configs"]["experiment"]["summary"]["ner_f1"]["mean"] == pytest.approx(0.7)


def test_export_of_an_unfinished_run_is_an_error_naming_it(tmp_path):
    (tmp_path / "experiment" / "seed_1").mkdir(parents=True)
    (tmp_path / "experiment" / "seed_1" / "metrics.json").write_text(json.dumps(fake_metrics(0.9, 0.4)))
    with pytest.raises(UnfinishedRuns, match=r"experiment \(seed 2\)"):
        run_experiments([CONFIG], [1, 2], None, tmp_path, train=None, table_only=True, export_dir=tmp_path / "kept")
    assert not (tmp_path / "kept").exists()


def test_a_second_call_does_not_inherit_the_first_ones_epochs():
    # The bug this replaced: SPERT_EPOCHS written into os.environ by one call leaked into the next.
    assert run_settings(Run(CONFIG, 3, None), epochs=4) == {"SPERT_SEED": "3", "SPERT_EPOCHS": "4"}
    assert run_settings(Run(CONFIG, 3, 7), epochs=None) == {"SPERT_SEED": "3", "SPERT_FOLD": "7"}
    assert "SPERT_EPOCHS" not in run_settings(Run(CONFIG, 3, None), epochs=None)


def kept_line(entities, relations, gold_entities, gold_relations):
    """A kept prediction: entities as (start, end, type, score), relations as (head, tail, type)."""
    return {
        "tokens": ["w"] * 6,
        "entities": [{"start": s, "end": e, "type": t, "score": score} for s, e, t, score in entities],
        "relations": [{"head": h, "tail": t, "type": label, "score": 1.0} for h, t, label in relations],
        "gold": {
            "entities": [{"start": s, "end": e, "type": t} for s, e, t in gold_entities],
            "relations": [{"head": h, "tail": t, "type": label} for h, t, label in gold_relations],
        },
    }


def figures(ner, ner_macro, rel):
    """metrics.json's test figures: ner and ner_macro as (P, R, F1); rel, for relations and strict relations alike."""
    metrics = {"best_epoch": 3}
    for task, micro, macro in (("ner", ner, ner_macro), ("rel", rel, rel), ("rel_strict", rel, rel)):
        for name, value, macro_value in zip(("precision", "recall", "f1"), micro, macro):
            metrics[f"test_{task}_{name}"], metrics[f"test_{task}_macro_{name}"] = value, macro_value
    return metrics


def write_kept_run(directory, lines, metrics):
    directory.mkdir(parents=True)
    (directory / PREDICTIONS_FILE).write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode()))
    (directory / "metrics.json").write_text(json.dumps(metrics))


PERSON, PLACE, FIRM = (0, 2, "Peop"), (3, 5, "Loc"), (0, 1, "Org")
GOLD = [([PERSON, PLACE], [(0, 1, "Live_In")]), ([FIRM], [])]


def test_flat_decoding_afterwards_recomputes_the_table_and_the_comparison(tmp_path):
    # Sentence 1: Peop, Loc and a shorter Loc [3, 4) inside the gold one (.5, dropped flat), related to
    # Peop (wrong, dropped with it). Sentence 2: a wrong Org [0, 2) (.7) beats the right one [0, 1) (.6).
    nested = [
        kept_line(
            [(*PERSON, 0.9), (*PLACE, 0.8), (3, 4, "Loc", 0.5)], [(0, 1, "Live_In"), (0, 2, "Live_In")], *GOLD[0]
        ),
        kept_line([(0, 2, "Org", 0.7), (*FIRM, 0.6)], [], *GOLD[1]),
    ]
    # As tested: NER tp 3, fp 2, fn 0 -> P 3/5, R 1, F1 3/4; per type Peop 1, Loc and Org P 1/2, F1 2/3:
    # macro P 2/3, R 1, F1 7/9. RE tp 1, fp 1 -> P 1/2, R 1, F1 2/3 (one type: macro = micro).
    write_kept_run(
        tmp_path / "experiment" / "seed_1", nested, figures((0.6, 1.0, 0.75), (2 / 3, 1.0, 7 / 9), (0.5, 1.0, 2 / 3))
    )
    exact = [
        kept_line([(*PERSON, 0.9), (*PLACE, 0.8)], [(0, 1, "Live_In")], *GOLD[0]),
        kept_line([(*FIRM, 0.9)], [], *GOLD[1]),
    ]
    write_kept_run(tmp_path / "baseline" / "seed_1", exact, figures((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)))
    baseline = tmp_path / "baseline.jsonnet"
    baseline.write_text((FIXTURES / "experiment.jsonnet").read_text())
    configs = [CONFIG, str(baseline)]

    def must_not_train(*args):
        raise AssertionError("a --table-only call trained a run")

    as_tested = run_experiments(configs, [1], None, tmp_path, train=must_not_train, table_only=True, samples=100)
    assert "decoding" not in as_tested and "decoding" not in as_tested["comparisons"][0]
    assert as_tested["comparisons"][0]["tasks"]["NER"]["mean"] == pytest.approx(0.75 - 1.0)

    flat = run_experiments(
        configs, [1], None, tmp_path, train=must_not_train, table_only=True, samples=100, decoding="flat"
    )
    # Flat: NER Peop, Loc, the wrong Org: tp 2, fp 1, fn 1 -> P = R = F1 = 2/3; per type Peop 1, Loc 1,
    # Org 0: macro 2/3 each. RE: the right relation alone: 1.
    metrics = flat["configs"]["experiment"]["runs"][0]["metrics"]
    assert [metrics[f"test_ner_{name}"] for name in ("precision", "recall", "f1")] == pytest.approx([2 / 3] * 3)
    assert metrics["test_ner_macro_f1"] == pytest.approx(2 / 3) and metrics["test_rel_f1"] == 1.0
    assert metrics["test_rel_strict_macro_f1"] == 1.0 and metrics["best_epoch"] == 3  # the rest as kept
    assert flat["configs"]["baseline"]["runs"][0]["metrics"]["test_ner_f1"] == 1.0  # nothing overlaps
    comparison = flat["comparisons"][0]
    assert comparison["decoding"] == "flat"
    assert comparison["tasks"]["NER"]["mean"] == pytest.approx(2 / 3 - 1.0)
    assert comparison["tasks"]["NER"]["pooled_f1"] == pytest.approx([2 / 3, 1.0])
    assert comparison["tasks"]["RE"]["mean"] == 0.0
    table = (tmp_path / "results.md").read_text()
    assert table.startswith("**Decoding: flat.** Entity decoding flat, applied afterwards") and "Exact:" in table
    assert "| experiment (seed 1) | 66.67 | 66.67 | 66.67 | 100.00 |" in table
    assert "### experiment (micro averages, test set, flat decoding, in %)" in table
    assert "(micro F1, test set, flat decoding, in points)" in table
    assert json.loads((tmp_path / "results.json").read_text())["decoding"] == "flat"
    # The metrics.json the table is built from stay as tested.
    assert json.loads((tmp_path / "experiment" / "seed_1" / "metrics.json").read_text())["test_ner_f1"] == 0.75


def test_flat_decoding_needs_the_predictions_the_run_was_tested_with(tmp_path):
    run = tmp_path / "experiment" / "seed_1"
    lines = [kept_line([(*PERSON, 0.9), (*PLACE, 0.8)], [(0, 1, "Live_In")], *GOLD[0])]
    # The predictions give NER F1 1, the run's metrics 0.8: predicted by another model, or differently.
    write_kept_run(run, lines, figures((0.8, 0.8, 0.8), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)))
    with pytest.raises(ResultsError, match=r"give test_ner_precision 1\.000000, but experiment \(seed 1\)'s metrics"):
        run_experiments([CONFIG], [1], None, tmp_path, train=None, table_only=True, decoding="flat")
    (run / PREDICTIONS_FILE).unlink()
    with pytest.raises(ResultsError, match=r"--decoding flat: experiment \(seed 1\) has no test predictions"):
        run_experiments([CONFIG], [1], None, tmp_path, train=None, table_only=True, decoding="flat")
    with pytest.raises(ResultsError, match="unknown decoding 'sideways'"):
        run_experiments([CONFIG], [1], None, tmp_path, train=None, table_only=True, decoding="sideways")

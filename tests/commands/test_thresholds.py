"""`allennlp spert-thresholds` end to end on fixture models: its figures are allennlp evaluate's and
those of predictions at the chosen theta, in the arithmetic asked; the chosen theta applied by
predict, spert-serve and spaCy. The curves themselves: tests/results/test_score_curves.py."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.commands.thresholds import Thresholds, parse_precisions
from spert_mt_plugin.inference.precision import default_precision
from spert_mt_plugin.models.extraction_metrics import ExtractionMetrics
from tests.conftest import ABLATIONS, FIXTURES, PROJECT_ROOT, train_fixture

SENTENCES = str(FIXTURES / "data" / "sentences.json")


def evaluated(entities, relations, metadata, symmetric=()):
    metrics = ExtractionMetrics(symmetric)
    metrics(entities, relations, metadata)
    return metrics.get_metric()


def test_the_wanted_precisions_and_the_arithmetic_are_two_options():
    parser = argparse.ArgumentParser()
    Thresholds().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["spert-thresholds", "model.tar.gz", "dev.json", "--target-precision", "0.9"])
    assert parse_precisions(args.target_precision) == [0.9] and args.precision == "auto"
    assert parse_precisions(["0.9", "0.8,0.95", "0.9"]) == [0.8, 0.9, 0.95]
    for bad in ("90", "0", "x"):
        with pytest.raises(ConfigurationError, match="--target-precision"):
            parse_precisions([bad])
    # a wanted precision given to --precision, the arithmetic, is refused
    with pytest.raises(SystemExit):
        parser.parse_args(["spert-thresholds", "model.tar.gz", "dev.json", "--precision", "0.9"])


# ---------------------------------------------------------------------------- end to end


def run_command(command_class, name, argv):
    parser = argparse.ArgumentParser()
    command_class().add_subparser(parser.add_subparsers())
    args = parser.parse_args([name, *argv])
    return args.func(args)


@pytest.fixture(scope="module", params=["full", "spert"])
def measured(request, tmp_path_factory):
    """(variant, archive, output folder, report) of spert-thresholds on the fixture sentences."""
    folder = tmp_path_factory.mktemp(f"thresholds_{request.param}")
    # 15 epochs: far from perfect on its own sentences, so that thresholds matter.
    archive = train_fixture(folder / "run", epochs=15, model_switches=ABLATIONS[request.param])
    output = folder / "out"
    # float32, as allennlp evaluate predicts
    report = run_command(
        Thresholds,
        "spert-thresholds",
        [archive, SENTENCES, "-o", str(output), "--target-precision", "0.9", "--precision", "float32"],
    )
    return request.param, archive, output, report


def gold_metadata():
    with open(SENTENCES) as handle:
        sentences = json.load(handle)
    return [
        {
            "entities": [(e["start"], e["end"], e["type"]) for e in s["entities"]],
            "relations": [(r["head"], r["tail"], r["type"]) for r in s["relations"]],
        }
        for s in sentences
    ]


def predicted_metrics(archive, tmp_path, *flags):
    """`allennlp predict ARCHIVE sentences.json --use-dataset-reader FLAGS`, scored against the gold."""
    from allennlp.commands.predict import Predict

    output = tmp_path / "predictions.jsonl"
    run_command(
        Predict,
        "predict",
        [archive, SENTENCES, "--use-dataset-reader", "--silent", "--output-file", str(output), *flags],
    )
    predictions = [json.loads(line) for line in output.read_text().splitlines()]
    return evaluated(
        [p["entities"] for p in predictions], [p["relations"] for p in predictions], gold_metadata(), ["Married_To"]
    )


def test_the_files_are_written(measured):
    variant, archive, output, report = measured
    assert (output / "thresholds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((output / "thresholds.json").read_text()) == json.loads(json.dumps(report))
    table = (output / "thresholds.md").read_text()
    assert "| best F1 |" in table and "| precision >= 90% |" in table and "--predictor-args" in table
    assert report["entity"]["score"] == ("margin" if variant == "full" else "probability")
    # the default low bounds: 0 for margins and SpERT's softmax entities, 0.05 for its sigmoid relations
    assert (report["entity"]["low_bound"], report["relation"]["low_bound"]) == (
        (0.0, 0.0) if variant == "full" else (0.0, 0.05)
    )


def test_the_figures_at_the_current_theta_are_allennlp_evaluates(measured, tmp_path):
    from allennlp.commands.evaluate import Evaluate

    _, archive, _, report = measured
    assert (report["precision"], report["precision_asked"]) == ("float32", "float32")
    output = tmp_path / "metrics.json"
    run_command(Evaluate, "evaluate", [archive, SENTENCES, "--output-file", str(output)])
    metrics = json.loads(output.read_text())
    for task, prefix in (("entity", "ner"), ("relation", "rel")):
        current = report[task]["current"]
        assert [current[name] for name in ("precision", "recall", "f1")] == [
            metrics[f"{prefix}_{name}"] for name in ("precision", "recall", "f1")
        ], task


def test_predicting_with_a_chosen_theta_gives_the_tables_figures(measured, tmp_path):
    variant, archive, _, report = measured
    rows = {"entity": [report["entity"]["best_f1"]], "relation": [report["relation"]["best_f1"]]}
    for task in rows:
        rows[task] += [entry for entry in report[task]["precision"] if entry["reached"]]
        rows[task] += report[task]["grid"][::6]
    if variant == "full":
        # The fixture model's best entity theta is not its own: the test says something.
        assert report["entity"]["best_f1"]["theta"] != report["entity"]["current"]["theta"]
    # The table is measured in float32 (--precision float32); the predictor's default arithmetic
    # may be another on this CPU.
    float32 = {"precision": "float32"}
    for task, prefix in (("entity", "ner"), ("relation", "rel")):
        for row in rows[task]:
            arguments = json.dumps({f"{task}_threshold": row["theta"], **float32})
            metrics = predicted_metrics(archive, tmp_path, "--predictor-args", arguments)
            got = [metrics[f"{prefix}_{name}"] for name in ("precision", "recall", "f1")]
            assert got == [row["precision"], row["recall"], row["f1"]], (task, row["theta"])
    if variant == "full":
        # A multi-task model's thetas are config keys too.
        theta = report["entity"]["best_f1"]["theta"]
        overrides = json.dumps({"model.entity_threshold": theta})
        metrics = predicted_metrics(
            archive, tmp_path, "--overrides", overrides, "--predictor-args", json.dumps(float32)
        )
        assert metrics["ner_f1"] == report["entity"]["best_f1"]["f1"]


def test_by_default_the_figures_are_those_of_a_default_prediction(measured, tmp_path):
    variant, archive, _, _ = measured
    if variant != "full":
        pytest.skip("the same code for both kinds of heads")
    report = run_command(Thresholds, "spert-thresholds", [archive, SENTENCES, "-o", str(tmp_path / "auto")])
    assert (report["precision"], report["precision_asked"]) == (default_precision(), "auto")
    assert (tmp_path / "auto" / "thresholds.md").read_text().count(
        f"Predicted in {default_precision()} arithmetic"
    ) == 1
    for task, prefix in (("entity", "ner"), ("relation", "rel")):
        for row in (report[task]["current"], report[task]["best_f1"]):
            # allennlp predict in its default arithmetic, the six sentences in one batch as the command has them
            arguments = json.dumps({f"{task}_threshold": row["theta"]})
            metrics = predicted_metrics(archive, tmp_path, "--batch-size", "32", "--predictor-args", arguments)
            got = [metrics[f"{prefix}_{name}"] for name in ("precision", "recall", "f1")]
            assert got == [row["precision"], row["recall"], row["f1"]], (task, row["theta"])


def test_bad_bounds_and_files_are_one_line_errors(measured, tmp_path):
    variant, archive, _, report = measured
    if variant != "full":
        pytest.skip("the same code for both kinds of heads")
    with pytest.raises(ConfigurationError, match="above the current entity theta 0.85"):
        run_command(
            Thresholds, "spert-thresholds", [archive, SENTENCES, "-o", str(tmp_path), "--min-entity-threshold", "1"]
        )
    with pytest.raises(ConfigurationError, match=r"sentence \d+ \(document s\d\) has \d+ entities at the low"):
        run_command(
            Thresholds,
            "spert-thresholds",
            [archive, SENTENCES, "-o", str(tmp_path), "--max-entities-per-sentence", "1"],
        )
    unlabelled = tmp_path / "unlabelled.json"
    unlabelled.write_text(json.dumps([{"tokens": ["Bob", "left", "."]}]))
    # the reader's own error, naming the file and the document
    with pytest.raises(ConfigurationError, match="unlabelled.json, document 0: the document has no annotation"):
        run_command(Thresholds, "spert-thresholds", [archive, str(unlabelled), "-o", str(tmp_path)])


def test_the_command_line_names_a_bad_bound_in_one_line(measured):
    variant, archive, _, _ = measured
    if variant != "full":
        pytest.skip("the same code for both kinds of heads")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "allennlp"),
            "spert-thresholds",
            archive,
            SENTENCES,
            "--min-relation-threshold",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 1
    assert (
        "allennlp spert-thresholds: error: --min-relation-threshold 2 is above the current relation theta 0.85"
        in result.stderr
    )


# ---------------------------------------------------------------------------- theta applied everywhere


def test_spert_serve_and_the_spacy_component_take_the_thresholds(measured):
    import spacy

    from spert_mt_plugin.commands.serve import Serve, app_factory

    variant, archive, _, _ = measured
    if variant != "full":
        pytest.skip("the same code for both kinds of heads")
    parser = argparse.ArgumentParser()
    Serve().add_subparser(parser.add_subparsers())
    tokens = ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."]
    answers = {}
    for flags in ([], ["--entity-threshold", "1e9"], ["--entity-threshold=-1e9", "--relation-threshold=-1e9"]):
        client = app_factory(parser.parse_args(["spert-serve", archive, *flags]))().test_client()
        answers[tuple(flags)] = client.post("/predict", json={"tokens": tokens}).get_json()
    default, nothing, everything = answers.values()
    assert default["entities"] and not nothing["entities"] and not nothing["relations"]

    def spans(answer):
        return {(e["start"], e["end"], e["type"]) for e in answer["entities"]}

    # At -1e9 the entities include the default ones, and every pair of them is related (one
    # direction at least: a symmetric type keeps the better one).
    assert spans(default) < spans(everything)
    count = len(everything["entities"])
    related = {frozenset((r["head"], r["tail"])) for r in everything["relations"]}
    assert related == {frozenset((a, b)) for a in range(count) for b in range(a + 1, count)}

    nlp = spacy.blank("en")
    nlp.add_pipe("spert_mt", config={"archive": archive, "entity_threshold": 1e9, "relation_threshold": 2.5})
    component = nlp.get_pipe("spert_mt")
    assert component.predictor.model.thresholds == {"entity": 1e9, "relation": 2.5}
    assert len(nlp(" ".join(tokens)).spans["spert_mt"]) == 0

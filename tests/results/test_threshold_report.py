"""A `spert-thresholds` report as text and figure, on a hand-built report: the arithmetic it was
predicted in is stated, and a mode asked explicitly is repeated in every line that predicts with the
chosen thetas."""

import json

from spert_mt_plugin.results.score_curves import ScoreCurve, task_report
from spert_mt_plugin.results.threshold_report import markdown_report, plot_report, summary_lines, usage_lines


def report(asked, used, score="margin"):
    # Entities, 3 gold: F1 1/2 at 2.0, 2/5 at 1.2, 2/3 at (0.5, 1.0] (the current 0.85: best), 4/7 at [0, 0.5].
    entity_curve = ScoreCurve([(2.0, True), (1.2, False), (1.0, True), (0.5, False)], 3, 0.0)
    # Relations, 3 gold: F1 1/2 at 3.0, 2/5 at (0.6, 0.9] (the current 0.85), 2/3 at [0, 0.6]: best, theta 0.2.
    relation_curve = ScoreCurve([(3.0, True), (0.9, False), (0.6, True)], 3, 0.0)
    relation = task_report(relation_curve, 0.85, [], score)
    relation["entity_theta"] = 0.85
    return {
        "archive": "model.tar.gz",
        "data": "dev.json",
        "overrides": None,
        "precision": used,
        "precision_asked": asked,
        "entity": task_report(entity_curve, 0.85, [0.9], score),
        "relation": relation,
    }


def test_the_arithmetic_is_stated_and_auto_is_not_repeated():
    default = report("auto", "bfloat16")
    stated = "Predicted in bfloat16 arithmetic (--precision auto: prediction's default on this machine)."
    assert summary_lines(default)[0] == stated
    assert summary_lines(default)[1].startswith("entities (3 gold, margin scores from 0): current theta 0.85: ")
    assert f"\n{stated} A prediction in another mode scores slightly differently.\n" in markdown_report(default)
    assert usage_lines(default) == [
        "allennlp predict model.tar.gz INPUT.jsonl --output-file predictions.jsonl "
        """--predictor-args '{"entity_threshold": 0.85, "relation_threshold": 0.2}'""",
        """# or: allennlp predict model.tar.gz INPUT.jsonl """
        """--overrides '{"model.entity_threshold": 0.85, "model.relation_threshold": 0.2}'""",
        "allennlp spert-serve model.tar.gz --entity-threshold 0.85 --relation-threshold 0.2",
        '# spaCy: nlp.add_pipe("spert_mt", config={"archive": "model.tar.gz", '
        '"entity_threshold": 0.85, "relation_threshold": 0.2})',
    ]


def test_a_mode_asked_explicitly_is_repeated_in_every_way_of_predicting():
    float32 = report("float32", "float32")
    assert summary_lines(float32)[0] == "Predicted in float32 arithmetic (--precision float32: as asked)."
    predict, overrides, serve, spacy = usage_lines(float32)
    arguments = json.loads(predict.split("--predictor-args ")[1].strip("'"))
    assert arguments == {"entity_threshold": 0.85, "relation_threshold": 0.2, "precision": "float32"}
    assert overrides.endswith(""" --predictor-args '{"precision": "float32"}'""")
    assert serve.endswith("--relation-threshold 0.2 --precision float32")
    assert spacy.endswith('"relation_threshold": 0.2, "precision": "float32"})')
    # SpERT's heads: the relation override only, the mode before the note
    probability = usage_lines(report("onnx", "onnx", score="probability"))[1]
    assert probability.endswith(
        """--overrides '{"model.relation_probability_threshold": 0.2}' """
        """--predictor-args '{"precision": "onnx"}' (relations only)"""
    )


def test_the_report_is_drawn_as_two_precision_recall_panels(tmp_path):
    import matplotlib.pyplot as plt

    output = tmp_path / "thresholds.png"
    open_before = plt.get_fignums()
    plot_report(report("auto", "bfloat16"), str(output))
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # saved and closed: no figure left open
    assert plt.get_fignums() == open_before

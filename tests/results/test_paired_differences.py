import json

import pytest

from spert_mt_plugin.results.paired_differences import (
    difference_points,
    draw_differences,
    pair_tag,
    read_comparison,
    summary_lines,
)
from spert_mt_plugin.results.runs import ResultsError
from tests.conftest import PROJECT_ROOT


def comparison(a="mt", b="spert", seeds=(13, 14), ner=(0.01, -0.02), p_value=0.25):
    differences = list(ner)
    mean = sum(differences) / len(differences)
    return {
        "a": a,
        "b": b,
        "pairs": [[f"{a} (seed {s})", f"{b} (seed {s})"] for s in seeds],
        "tasks": {
            "NER": {"mean": mean, "ci95": [mean - 0.1, mean + 0.1], "differences": differences, "p_value": p_value},
            "RE": {"mean": 0.03, "ci95": None, "differences": [0.03] * len(seeds), "p_value": None},
        },
    }


def write_table(path, *comparisons):
    path.write_text(json.dumps({"configs": {}, "comparisons": list(comparisons)}))
    return path


def test_the_only_comparison_or_the_one_named_is_read(tmp_path):
    one = write_table(tmp_path / "one.json", comparison())
    assert read_comparison(one)["a"] == "mt"
    two = write_table(tmp_path / "two.json", comparison(), comparison("mt", "other"))
    assert read_comparison(two, ["mt", "other"])["b"] == "other"


@pytest.mark.parametrize(
    "content, pair, message",
    [
        (None, None, "{path}: no such file"),
        ('{"configs": ', None, "{path}: not a JSON table of spert-experiments (Expecting value"),
        ('{"configs": {}}', None, "{path}: no paired comparison (a table of two configs, or --compare, makes one)"),
        ("[1, 2]", None, "{path}: no paired comparison"),
        ("two", None, "{path}: 2 comparisons (mt − spert, mt − other): name one with --compare A B"),
        ("two", ["mt", "x"], "{path}: no comparison mt − x (it has: mt − spert, mt − other)"),
    ],
)
def test_a_table_without_the_comparison_is_an_error_naming_the_file(tmp_path, content, pair, message):
    path = tmp_path / "table.json"
    if content == "two":
        write_table(path, comparison(), comparison("mt", "other"))
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ResultsError) as error:
        read_comparison(path, pair)
    assert str(error.value).startswith(message.format(path=path))


def test_pairs_are_tagged_by_seed_or_by_fold():
    assert pair_tag("conll04 (seed 13)") == "13"
    assert pair_tag("ade (fold 0, seed 13)") == "fold 0"
    assert pair_tag("a run of another name") == "a run of another name"


def test_points_are_the_kept_figures_in_f1_points():
    points = difference_points(comparison())
    assert points["NER"]["differences"] == pytest.approx([1.0, -2.0])
    assert points["NER"]["mean"] == pytest.approx(-0.5)
    assert points["NER"]["ci95"] == pytest.approx((-10.5, 9.5))
    assert points["NER"]["tags"] == ["13", "14"]
    assert points["RE"]["ci95"] is None and points["RE"]["p_value"] is None
    with pytest.raises(ResultsError, match="comparison mt − spert has no task 'RE strict'"):
        difference_points(comparison(), ["NER", "RE strict"])
    lines = summary_lines({"nested": points})
    assert lines == [
        "nested NER: mean −0.50 [−10.50, +9.50], p 0.2500; per pair: 13 +1.00, 14 −2.00",
        "nested RE: mean +3.00; per pair: 13 +3.00, 14 +3.00",
    ]


def test_the_kept_conll04_comparison_gives_its_ten_seeds():
    kept = read_comparison(PROJECT_ROOT / "results" / "table_conll04" / "table1.json")
    points = difference_points(kept)
    assert points["RE"]["tags"] == [str(seed) for seed in range(13, 23)]
    # the figures results/table_conll04/table1.md prints
    assert round(points["RE"]["mean"], 2) == 0.92
    assert [round(v, 2) for v in points["RE"]["ci95"]] == [-0.24, 2.08]
    assert round(points["NER"]["differences"][2], 2) == 1.04


def test_each_dot_is_drawn_at_its_difference_with_the_claim_marked():
    series = {"nested": difference_points(comparison()), "flat": difference_points(comparison(ner=(0.02, 0.04)))}
    figure = draw_differences(series, {"RE": 2.1}, "mt − spert")
    try:
        ner_axis, re_axis = figure.axes
        from matplotlib.collections import PathCollection

        dots = [
            collection.get_offsets() for collection in ner_axis.collections if isinstance(collection, PathCollection)
        ]
        assert sorted(x for offsets in dots for x, _ in offsets) == pytest.approx([-2.0, 1.0, 2.0, 4.0])
        # the first series is the top row
        assert [tick.get_text() for tick in ner_axis.get_yticklabels()] == ["flat", "nested"]
        vertical = [line.get_xdata()[0] for line in re_axis.get_lines() if line.get_linestyle() == "--"]
        assert vertical == pytest.approx([2.1])
        assert not [line for line in ner_axis.get_lines() if line.get_linestyle() == "--"]
        assert ner_axis.get_xlabel() == "mt − spert (F1 points)"
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)

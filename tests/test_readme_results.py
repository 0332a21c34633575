"""
README.md's "Results in brief" table holds only figures the kept results hold: each row links the
kept table (results/*/*.md) whose JSON beside it has every figure of the row, rounded as printed;
the paper's column is checked against results/paper_table1.json.
"""

import json
import re
from typing import Dict, List

import pytest

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAPER = PROJECT_ROOT / "results" / "paper_table1.json"
TASKS = {"NER": "ner_f1", "RE": "rel_f1"}
COLUMNS = ("dataset", "task", "a", "b", "difference", "p", "paper")


def results_rows(text: str) -> List[Dict[str, str]]:
    """The rows of the first table under "## Results in brief"; an empty dataset cell repeats the one above."""
    section = text.split("## Results in brief", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows, dataset = [], ""
    for line in lines[2:]:  # the header and the |---| line
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == len(COLUMNS), f"README.md results row with {len(cells)} cells: {line}"
        row = dict(zip(COLUMNS, cells))
        dataset = row["dataset"] = row["dataset"] or dataset
        rows.append(row)
    return rows


def signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def seed_range(values: List[int]) -> str:
    return f"{values[0]}–{values[-1]}" if len(values) > 1 else str(values[0])


def printed_row(row: Dict[str, str]) -> Dict[str, str]:
    """The row as the kept table its dataset cell links to would print it."""
    link = re.search(r"\]\((results/[^)]+)\.md\)", row["dataset"])
    assert link, f"README.md results row {row['dataset']!r} links no kept table (results/...md)"
    table = json.loads((PROJECT_ROOT / f"{link.group(1)}.json").read_text())
    comparison = table["comparisons"][0]
    task = comparison["tasks"][row["task"]]
    summaries = [
        table["configs"][config]["summary"][TASKS[row["task"]]] for config in (comparison["a"], comparison["b"])
    ]
    low, high = task["ci95"]
    expected = dict(row)
    expected["a"], expected["b"] = (f"{100 * s['mean']:.2f} ± {100 * s['std']:.2f}" for s in summaries)
    expected["difference"] = f"{signed(100 * task['mean'])} [{signed(100 * low)}, {signed(100 * high)}]"
    if task["p_value"] is None:
        expected["p"] = "–"
    else:
        decimals = len(row["p"].partition(".")[2])
        expected["p"] = f"{task['p_value']:.{decimals}f}"
    if row["paper"] != "–":
        paper = json.loads(PAPER.read_text())[comparison["a"]]
        a, b = (paper[model][TASKS[row["task"]]] for model in ("SpERT.MT", "SpERT"))
        expected["paper"] = f"{a:.2f} / {b:.2f} ({signed(a - b)})"
    runs = "folds" if table["folds"] else "seeds"
    span = seed_range(table["folds"] or table["seeds"])
    assert f"{runs} {span}" in row["dataset"], f"{row['dataset']!r}: the kept table has {runs} {span}"
    return expected


def test_every_figure_of_the_readme_results_table_is_in_the_kept_results():
    rows = results_rows(README.read_text(encoding="utf-8"))
    linked = {re.search(r"\]\((results/[^)]+)\)", row["dataset"]).group(1) for row in rows}
    assert {
        "results/table_conll04/table1.md",
        "results/table_scierc/table1.md",
        "results/table_ade/results.md",
    } <= linked
    assert {row["task"] for row in rows} == set(TASKS)
    for row in rows:
        assert row == printed_row(row), f"README.md results row {row['dataset']!r} {row['task']}"


def test_a_changed_digit_is_found():
    text = README.read_text(encoding="utf-8").replace("| 64.70 ± 0.95 |", "| 64.71 ± 0.95 |", 1)
    row = next(row for row in results_rows(text) if row["a"] == "64.71 ± 0.95")
    assert printed_row(row)["a"] == "64.70 ± 0.95"
    with pytest.raises(AssertionError, match="seeds 13–22"):
        printed_row(dict(row, dataset=row["dataset"].replace("13–22", "13–15")))

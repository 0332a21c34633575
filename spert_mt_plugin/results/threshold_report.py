"""
A `spert-thresholds` report (`threshold_measurement.measure_thresholds`, its tasks built by
`score_curves.task_report`) as text: the Markdown tables, the lines printed on the console and the
lines that predict with the best-F1 thetas; and as a figure, the precision-recall curves.
"""

import json
from typing import Any, Dict, List

from spert_mt_plugin.inference.precision import AUTO
from spert_mt_plugin.results.figures import save_figure

TASKS = (("entity", "entities"), ("relation", "relations"))


def percent(value: float) -> str:
    """A fraction as a percentage with two decimals, as the tables show figures."""
    return f"{100 * value:.2f}"


def markdown_report(report: Dict[str, Any]) -> str:
    """The report as Markdown: per task, the chosen thetas and the grid."""
    lines = [
        f"# Thresholds of {report['archive']} on {report['data']}",
        "",
        "Micro precision, recall and F1 (%) as `allennlp evaluate` counts them (`ner`, `rel`), for each theta: "
        "a prediction is kept when its score reaches theta. The relation figures are at the current entity theta "
        f"{report['relation']['entity_theta']}. Curves start at the low bounds: no theta below them was measured.",
        "",
        f"{arithmetic_line(report)} A prediction in another mode scores slightly differently.",
    ]
    for task, title in TASKS:
        part = report[task]
        lines += [
            "",
            f"## {title.capitalize()} ({part['score']} scores, {part['gold']} gold, "
            f"curve from theta {part['low_bound']:g})",
            "",
            "| | theta | same predictions for theta in | P | R | F1 | predicted | correct |",
            "|---|---|---|---|---|---|---|---|",
        ]
        rows = [("current theta", part["current"]), ("best F1", part["best_f1"])]
        for entry in part["precision"]:
            rows.append((f"precision >= {100 * entry['wanted']:g}%", entry if entry["reached"] else None))
        for name, row in rows:
            if row is None:
                lines.append(f"| {name} | not reached | | | | | | |")
            else:
                lines.append(
                    f"| {name} | {row['theta']:g} | {_range(row)} | {percent(row['precision'])} | "
                    f"{percent(row['recall'])} | {percent(row['f1'])} | {row['predicted']} | {row['correct']} |"
                )
        lines += ["", "| theta | P | R | F1 | predicted | correct |", "|---|---|---|---|---|---|"]
        marks = {part["current"]["theta"]: " (current)", part["best_f1"]["theta"]: " (best F1)"}
        if part["current"]["theta"] == part["best_f1"]["theta"]:
            marks[part["current"]["theta"]] = " (current, best F1)"
        for row in part["grid"]:
            lines.append(
                f"| {row['theta']:g}{marks.get(row['theta'], '')} | {percent(row['precision'])} | "
                f"{percent(row['recall'])} | {percent(row['f1'])} | {row['predicted']} | {row['correct']} |"
            )
    lines += ["", "## Using the best-F1 thetas", "", "```bash", *usage_lines(report), "```"]
    return "\n".join(lines) + "\n"


def _range(row: Dict[str, Any]) -> str:
    """The thetas that keep the same predictions as the row's, on the file measured."""
    lower = f"[{row['same_from']:.6g}" if row["same_from_included"] else f"({row['same_from']:.6g}"
    upper = "inf)" if row["same_up_to"] is None else f"{row['same_up_to']:.6g}]"
    return f"{lower}, {upper}"


def arithmetic_line(report: Dict[str, Any]) -> str:
    """The sentence that says which arithmetic the file was predicted in, and why that one."""
    used, asked = report["precision"], report["precision_asked"]
    why = "prediction's default on this machine" if asked == AUTO else "as asked"
    return f"Predicted in {used} arithmetic (--precision {asked}: {why})."


def usage_lines(report: Dict[str, Any]) -> List[str]:
    """
    How to predict with the best-F1 thetas: `allennlp predict`, `spert-serve`, spaCy. A precision
    mode given explicitly (not `auto`) is repeated in each, so that the predictions are those measured.
    """
    entity, relation = report["entity"]["best_f1"]["theta"], report["relation"]["best_f1"]["theta"]
    archive = report["archive"]
    # `auto` is prediction's default: nothing to repeat.
    precision = {} if report["precision_asked"] == AUTO else {"precision": report["precision"]}
    arguments = json.dumps({"entity_threshold": entity, "relation_threshold": relation, **precision})
    lines = [f"allennlp predict {archive} INPUT.jsonl --output-file predictions.jsonl --predictor-args '{arguments}'"]
    overrides = {}
    if report["entity"]["score"] == "margin":
        overrides["model.entity_threshold"] = entity
        overrides["model.relation_threshold"] = relation
    else:
        # SpERT's softmax entity head has no config key for its least probability.
        overrides["model.relation_probability_threshold"] = relation
    only = "" if len(overrides) == 2 else " (relations only)"
    mode = f" --predictor-args '{json.dumps(precision)}'" if precision else ""
    lines.append(f"# or: allennlp predict {archive} INPUT.jsonl --overrides '{json.dumps(overrides)}'{mode}{only}")
    # json.dumps writes each theta in full, as Python reads it back.
    entity_text, relation_text = json.dumps(entity), json.dumps(relation)
    serve_mode = f" --precision {precision['precision']}" if precision else ""
    lines.append(
        f"allennlp spert-serve {archive} --entity-threshold {entity_text} --relation-threshold {relation_text}"
        f"{serve_mode}"
    )
    spacy_mode = f', "precision": "{precision["precision"]}"' if precision else ""
    lines.append(
        f'# spaCy: nlp.add_pipe("spert_mt", config={{"archive": "{archive}", '
        f'"entity_threshold": {entity_text}, "relation_threshold": {relation_text}{spacy_mode}}})'
    )
    if entity != report["relation"]["entity_theta"]:
        lines.append(
            f"# the relation figures are at entity theta {json.dumps(report['relation']['entity_theta'])}; at "
            f"{entity_text} they differ: rerun with --entity-threshold {entity_text} to see them"
        )
    return lines


def summary_lines(report: Dict[str, Any]) -> List[str]:
    """The figures to print: per task, at the current theta, at the best F1 and per wanted precision."""

    def figures(row: Dict[str, Any]) -> str:
        return f"P {percent(row['precision'])} R {percent(row['recall'])} F1 {percent(row['f1'])}"

    lines = [arithmetic_line(report)]
    for task, title in TASKS:
        part = report[task]
        where = f", at entity theta {report['relation']['entity_theta']:g}" if task == "relation" else ""
        lines.append(
            f"{title} ({part['gold']} gold, {part['score']} scores from {part['low_bound']:g}{where}): "
            f"current theta {part['current']['theta']:g}: {figures(part['current'])}; "
            f"best F1 at theta {part['best_f1']['theta']:g}: {figures(part['best_f1'])}"
        )
        for entry in part["precision"]:
            wanted = f"  precision >= {100 * entry['wanted']:g}%: "
            lines.append(
                wanted + (f"theta {entry['theta']:g}: {figures(entry)}" if entry["reached"] else "not reached")
            )
    return lines


def plot_report(report: Dict[str, Any], output: str) -> None:
    """Two panels, entities and relations: precision against recall, the current and the best-F1 theta marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for axis, (task, title) in zip(axes, TASKS):
        part = report[task]
        curve = part["curve"]
        axis.plot([100 * p["recall"] for p in curve], [100 * p["precision"] for p in curve], marker=".", markersize=3)
        for key, label, marker in (("current", "current", "o"), ("best_f1", "best F1", "*")):
            point = part[key]
            axis.plot(
                [100 * point["recall"]],
                [100 * point["precision"]],
                marker=marker,
                markersize=11,
                fillstyle="none" if marker == "o" else "full",
                linestyle="none",
                label=f"{label}: theta {point['theta']:g}, F1 {percent(point['f1'])}",
            )
        where = "" if task == "entity" else f" (entity theta {report['relation']['entity_theta']:g})"
        axis.set_title(f"{title}{where}: theta from {part['low_bound']:g} ({part['score']} scores)")
        axis.set_xlabel("recall (%)")
        axis.set_ylabel("precision (%)")
        axis.set_xlim(0, 101)
        axis.set_ylim(0, 101)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small", loc="lower left")
    caption = f"one point per theta (descending); predicted in {report['precision']}"
    save_figure(figure, output, f"{report['archive']} on {report['data']}", caption)

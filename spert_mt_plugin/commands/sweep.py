"""
`allennlp spert-sweep`: test NER and RE F1 of several models against one config value that varies
between their runs (the paper's Figure 3: the number of negative samples), seeds averaged, the
range of the seeds shaded.
"""

import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from allennlp.commands.subcommand import Subcommand

from spert_mt_plugin.formats.atomic import write_text
from spert_mt_plugin.results.figures import save_figure
from spert_mt_plugin.results.runs import ResultsError
from spert_mt_plugin.results.sweep import sweep_points

PANELS = (("ner", "NER F1"), ("rel", "RE F1"))


def plot_sweep(
    series: Dict[str, List[Dict[str, Any]]],
    output: str,
    parameter_label: str,
    average: str = "micro",
    title: Optional[str] = None,
) -> None:
    """Draws one panel per task, one line per model (the seeds' mean) over the shaded min–max of its seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(PANELS), figsize=(5.5 * len(PANELS), 4))
    for axis, (task, name) in zip(axes, PANELS):
        for label, points in series.items():
            values = [p["value"] for p in points]
            (line,) = axis.plot(values, [p[task]["mean"] for p in points], marker="o", label=label)
            axis.fill_between(
                values,
                [p[task]["min"] for p in points],
                [p[task]["max"] for p in points],
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
        axis.set_title(f"test {name}" + (" (macro)" if average == "macro" else ""))
        axis.set_xlabel(parameter_label)
        axis.set_ylabel("F1 (%)")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    save_figure(figure, output, title, "line: mean of the seeds; shaded: their range")


def markdown_sweep(series: Dict[str, List[Dict[str, Any]]], parameter_label: str) -> str:
    """The plotted figures as a table: per model and value, mean [min, max] of the seeds' test F1."""
    lines = [f"| model | {parameter_label} | runs | NER F1 | RE F1 | RE strict F1 |", "|---|---|---|---|---|---|"]
    for label, points in series.items():
        for p in points:
            cells = [f"{p[t]['mean']:.2f} [{p[t]['min']:.2f}, {p[t]['max']:.2f}]" for t in ("ner", "rel", "rel_strict")]
            lines.append(f"| {label} | {p['value']} | {len(p['runs'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@Subcommand.register("spert-sweep")
class Sweep(Subcommand):
    """`allennlp spert-sweep --series LABEL RUN_DIR... [--series ...] --parameter model.negative_entities -o f.png`."""

    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = (
            "Plot test NER and RE F1 against a config value that differs between runs (read from each run's "
            "config.json, e.g. model.negative_entities), one line per model: the mean of its runs at each value, "
            "the range of the runs shaded. Also prints the figures as a Markdown table (and writes it beside "
            "the PNG, same name, .md). Works on run folders of spert-experiments or their --export copies."
        )
        subparser = parser.add_parser(self.name, description=description, help="Plot F1 against a config value.")
        subparser.add_argument(
            "--series",
            nargs="+",
            action="append",
            required=True,
            metavar="LABEL RUN_DIR",
            help="a model: its legend label, then its finished run folders (repeat for each model)",
        )
        subparser.add_argument("--parameter", required=True, help="dotted config key, e.g. model.negative_entities")
        subparser.add_argument("--parameter-label", default=None, help="x axis label (default: the key)")
        subparser.add_argument("-o", "--output", required=True, help="PNG file to write")
        subparser.add_argument("--average", choices=("micro", "macro"), default="micro", help="F1 average (ADE: macro)")
        subparser.add_argument("--title", default=None, help="figure title")
        subparser.set_defaults(func=sweep_from_args)
        return subparser


def sweep_from_args(args: argparse.Namespace) -> None:
    label = args.parameter_label or args.parameter
    series: Dict[str, List[Dict[str, Any]]] = {}
    try:
        for entry in args.series:
            if len(entry) < 2:
                raise ResultsError(f"--series {entry[0]}: no run folders after the label")
            series[entry[0]] = sweep_points(entry[1:], args.parameter, args.average)
    except ResultsError as error:
        raise SystemExit(f"spert-sweep: {error}")
    plot_sweep(series, args.output, label, args.average, args.title)
    table = markdown_sweep(series, label)
    write_text(Path(args.output).with_suffix(".md"), table)
    print(table)
    print(f"wrote {args.output} and {Path(args.output).with_suffix('.md')}")


def run_sweep(argv: Sequence[str]) -> None:
    """Runs the command with `argv` (for tests and scripts)."""
    parser = argparse.ArgumentParser()
    Sweep().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["spert-sweep", *argv])
    args.func(args)

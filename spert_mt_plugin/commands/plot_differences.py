"""
`allennlp spert-plot --differences TABLE.json ...`: the paired differences of kept comparisons as a
dot plot (`spert_mt_plugin.results.paired_differences`); the options `spert-plot` adds for it.
"""

import argparse
from pathlib import Path

from spert_mt_plugin.results.figures import save_figure
from spert_mt_plugin.results.paired_differences import (
    CAPTION,
    difference_points,
    draw_differences,
    read_comparison,
    summary_lines,
)
from spert_mt_plugin.results.runs import ResultsError


def add_difference_arguments(subparser: argparse.ArgumentParser) -> None:
    subparser.add_argument(
        "--differences",
        nargs="+",
        default=None,
        metavar="TABLE_JSON",
        help="instead of run folders: draw the per-seed paired differences of the comparison in each table JSON "
        "of spert-experiments (e.g. results/table_conll04/table1.json), one row per table (--labels names them)",
    )
    subparser.add_argument(
        "--compare",
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help="with --differences: the comparison A − B to draw, when a table has several",
    )
    subparser.add_argument(
        "--claim",
        nargs=2,
        action="append",
        default=[],
        metavar=("TASK", "GAIN"),
        help="with --differences: mark a claimed gain in F1 points, e.g. --claim NER 1.8 --claim RE 2.1",
    )


def claimed_gains(claims) -> dict:
    gains = {}
    for task, value in claims:
        try:
            gains[task] = float(value)
        except ValueError:
            raise ResultsError(f"--claim {task} {value}: the gain must be a number of F1 points") from None
    return gains


def plot_differences_from_args(args: argparse.Namespace) -> None:
    if args.run_dirs:
        raise ResultsError("give run folders (learning curves) or --differences TABLE_JSON, not both")
    tables = args.differences
    labels = args.labels if args.labels is not None else [Path(table).stem for table in tables]
    if len(labels) != len(tables):
        raise ResultsError(f"--labels: {len(labels)} labels for {len(tables)} tables")
    claims = claimed_gains(args.claim)
    series, comparison = {}, None
    for label, table in zip(labels, tables):
        comparison = read_comparison(Path(table), args.compare)
        series[label] = difference_points(comparison)
    unknown = sorted(set(claims) - set(next(iter(series.values()))))
    if unknown:
        raise ResultsError(f"--claim {unknown[0]}: not a drawn task (NER or RE)")
    figure = draw_differences(series, claims, f"{comparison['a']} − {comparison['b']}")
    caption = CAPTION + ("; red dashed: the claimed gain" if claims else "")
    save_figure(figure, args.output, args.title, caption)
    for line in summary_lines(series):
        print(line)
    print(f"wrote {args.output}")

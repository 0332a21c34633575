"""
The range-max pooling (`spert_mt_plugin/modules/range_max.py`) of a git revision against the
working tree's, in one process: the same predictor predicts the first CoNLL04 test sentences at
batch sizes 1 and 8 with each in turn (interleaved passes, medians), so that the machine's drift
falls on both alike. Prints sentences/s and the ratio; asserts nothing.

    .venv/bin/python benchmarks/pooling_versus.py --archive runs/main/model.tar.gz --data-dir ../shared/data \\
        --revision HEAD~1 [--precision onnx] [--sentences 96] [--repeats 9]
"""

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from time_shares import conll04_test_words  # noqa: E402

import spert_mt_plugin.modules.range_max as working_tree  # noqa: E402
import spert_mt_plugin.modules.sentence_encoding as sentence_encoding  # noqa: E402
from spert_mt_plugin.archives import load_predictor  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]


def module_at(revision: str) -> types.ModuleType:
    """`range_max` as it was at `revision`."""
    source = subprocess.run(
        ["git", "-C", str(PROJECT), "show", f"{revision}:spert_mt_plugin/modules/range_max.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"range_max_at_{revision}")
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    return module


def use(module: types.ModuleType) -> None:
    # encode_sentences reads both names from its own module at each call.
    sentence_encoding.RangeMaxTable = module.RangeMaxTable
    sentence_encoding.max_pool_words = module.max_pool_words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--revision", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--precision", default="onnx")
    parser.add_argument("--sentences", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    inputs = [{"tokens": words} for words in conll04_test_words(args.data_dir, args.sentences)]
    predictor = load_predictor(args.archive, precision=args.precision)
    variants = {args.revision: module_at(args.revision), "working tree": working_tree}

    def one_pass(batch_size: int) -> float:
        start = time.perf_counter()
        for first in range(0, len(inputs), batch_size):
            predictor.predict_batch_json(inputs[first : first + batch_size])
        return time.perf_counter() - start

    seconds = {(name, size): [] for name in variants for size in (1, 8)}
    for module in variants.values():  # warm-up
        use(module)
        one_pass(8)
    for _ in range(args.repeats):
        for name, module in variants.items():
            use(module)
            for size in (1, 8):
                seconds[(name, size)].append(one_pass(size))
    use(working_tree)
    print(f"{args.precision}, {len(inputs)} sentences, {args.repeats} interleaved passes, medians")
    for size in (1, 8):
        old, new = (statistics.median(seconds[(name, size)]) for name in variants)
        print(
            f"  batch {size}: {args.revision} {len(inputs) / old:.1f}, working tree {len(inputs) / new:.1f} "
            f"sentences/s: {old / new:.3f}x"
        )


if __name__ == "__main__":
    main()

"""
Where the predictor's time goes: the full predictor path (`predict_batch_json` on `{"tokens": ...}`
inputs, then `dump_line` for each output, as `allennlp predict` does) on CoNLL04 test sentences at
batch sizes 1 and 8, cut into parts by forward hooks on the model's public modules:

- input: input checks, instances, indexing and tensors (the path outside the model's forward);
- encoder: the transformer's forward (`model.embedder`): the floor, the bare encoder on the
  same batches;
- entity head, relation head: the heads' forwards (`model.entity_head`, `model.relation_head`);
- span representation, pair building and decoding: the rest of the model's forward, between the
  encoder and the heads (plain functions, which hooks cannot cut apart);
- JSON: `dump_line` of each output.

    .venv/bin/python benchmarks/time_shares.py --archive runs/main/model.tar.gz --data-dir ../shared/data \
        [--sentences 96] [--repeats 3] [--precision float32[,onnx,...]] [--output results/speed_cpu/time_shares.json]

Each batch size runs `--repeats` times over the same sentences after one warm-up pass, the modes in
turns; each part's seconds are the median over the repeats. Prints each part's share, the whole
path's ratio to the encoder (the floor) and the CPU's vector flags; with several modes, each later
mode's whole path against the first's, and the first's whole path over the later mode's encoder:
the most that encoder could give if everything around it took no time. Asserts nothing; run it on
an otherwise idle machine.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_ray import cpu_name  # noqa: E402

from spert_mt_plugin.archives import load_predictor  # noqa: E402
from spert_mt_plugin.inference.precision import cpu_flags  # noqa: E402

PARTS = ["input", "encoder", "entity head", "relation head", "span representation, pairs, decoding", "JSON"]
VECTOR_FLAGS = ["avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"]


def cpu_description():
    """The CPU's model name, the vector flags that decide the precision modes, and torch's choice."""
    flags = cpu_flags()
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "flags": {flag: flag in flags for flag in VECTOR_FLAGS},
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
    }


def conll04_test_words(data_dir, count):
    """The words of the first `count` CoNLL04 test sentences in `data_dir`."""
    test_file = Path(data_dir) / "conll04" / "conll04_test.json"
    if not test_file.exists():
        raise SystemExit(f"{test_file}: no such file (--data-dir must hold conll04/)")
    return [document["tokens"] for document in json.loads(test_file.read_text(encoding="utf-8"))[:count]]


class ModuleClock:
    """Seconds spent in the forwards of some modules, by name, from forward pre- and post-hooks."""

    def __init__(self, modules):
        self.seconds = defaultdict(float)
        self._started = {}
        for name, module in modules.items():
            module.register_forward_pre_hook(self._starter(name))
            module.register_forward_hook(self._stopper(name))

    def _starter(self, name):
        def start(module, inputs):
            self._started[name] = time.perf_counter()

        return start

    def _stopper(self, name):
        def stop(module, inputs, output):
            self.seconds[name] += time.perf_counter() - self._started.pop(name)

        return stop

    def reset(self):
        self.seconds.clear()


def one_pass(predictor, clock, inputs, batch_size):
    """Each part's seconds over `inputs`, predicted `batch_size` at a time."""
    clock.reset()
    path = json_seconds = 0.0
    for start in range(0, len(inputs), batch_size):
        began = time.perf_counter()
        outputs = predictor.predict_batch_json(inputs[start : start + batch_size])
        middle = time.perf_counter()
        for output in outputs:
            predictor.dump_line(output)
        path += middle - began
        json_seconds += time.perf_counter() - middle
    forward = clock.seconds["model"]
    heads = clock.seconds["entity head"] + clock.seconds["relation head"]
    return {
        "input": path - forward,
        "encoder": clock.seconds["encoder"],
        "entity head": clock.seconds["entity head"],
        "relation head": clock.seconds["relation head"],
        "span representation, pairs, decoding": forward - clock.seconds["encoder"] - heads,
        "JSON": json_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--sentences", type=int, default=96, help="CoNLL04 test sentences, from the first")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precision",
        default="float32",
        help="any mode, or several separated by commas (timed in turns); in onnx and onnx-int8 the "
        "encoder's share is ONNX Runtime's, called by the embedder",
    )
    parser.add_argument("--output", default=None, help="also write the figures here (JSON)")
    args = parser.parse_args()

    inputs = [{"tokens": words} for words in conll04_test_words(args.data_dir, args.sentences)]
    modes = args.precision.split(",")
    if len(set(modes)) < len(modes):
        parser.error(f"--precision names a mode twice: {args.precision}")
    predictors = {mode: load_predictor(args.archive, precision=mode) for mode in modes}
    clocks = {
        mode: ModuleClock(
            {
                "model": predictor.model,
                "encoder": predictor.model.embedder,
                "entity head": predictor.model.entity_head,
                "relation head": predictor.model.relation_head,
            }
        )
        for mode, predictor in predictors.items()
    }
    figures = {"machine": cpu_description(), "sentences": len(inputs), "precisions": modes, "modes": {}}
    print(f"{figures['machine']}")
    for batch_size in (1, 8):
        passes = {mode: [] for mode in modes}
        for mode in modes:  # warm-up
            one_pass(predictors[mode], clocks[mode], inputs, batch_size)
        for _ in range(args.repeats):
            for mode in modes:
                passes[mode].append(one_pass(predictors[mode], clocks[mode], inputs, batch_size))
        for mode in modes:
            seconds = {part: statistics.median(p[part] for p in passes[mode]) for part in PARTS}
            whole = sum(seconds.values())
            figures["modes"].setdefault(mode, {})[batch_size] = {
                "seconds": seconds,
                "whole_seconds": whole,
                "sentences_per_second": len(inputs) / whole,
                "whole_over_encoder": whole / seconds["encoder"],
            }
            print(
                f"\n{mode}, batch {batch_size}: {len(inputs) / whole:.1f} sentences/s, whole path / encoder = "
                f"{whole / seconds['encoder']:.2f}"
            )
            for part in PARTS:
                print(f"  {part:<40} {seconds[part]:7.3f} s  {100 * seconds[part] / whole:5.1f} %")
        reference = figures["modes"][modes[0]][batch_size]
        for mode in modes[1:]:
            entry = figures["modes"][mode][batch_size]
            # The most this mode's encoder allows: everything around it costing nothing.
            entry[f"speedup_over_{modes[0]}"] = reference["whole_seconds"] / entry["whole_seconds"]
            entry[f"{modes[0]}_whole_over_encoder"] = reference["whole_seconds"] / entry["seconds"]["encoder"]
            print(
                f"{mode} against {modes[0]}, batch {batch_size}: whole path {entry[f'speedup_over_{modes[0]}']:.2f}x; "
                f"{modes[0]}'s whole path / {mode}'s encoder = {entry[f'{modes[0]}_whole_over_encoder']:.2f}x "
                f"(the most {mode} could reach if nothing else took time)"
            )
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

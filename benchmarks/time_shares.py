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
        [--sentences 96] [--repeats 3] [--precision float32] [--output results/speed_cpu/time_shares.json]

Each batch size runs `--repeats` times over the same sentences after one warm-up pass; each part's
seconds are the median over the repeats. Prints each part's share, the whole path's ratio to the
encoder (the floor) and the CPU's vector flags. Asserts nothing; run it on an otherwise idle machine.
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

PARTS = ["input", "encoder", "entity head", "relation head", "span representation, pairs, decoding", "JSON"]
VECTOR_FLAGS = ["avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"]


def cpu_description():
    """The CPU's model name, the vector flags that decide the precision modes, and torch's choice."""
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.partition(":")[2].split())
                break
    except OSError:
        pass
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
        help="any mode; in onnx and onnx-int8 the encoder's share is ONNX Runtime's, called by the embedder",
    )
    parser.add_argument("--output", default=None, help="also write the figures here (JSON)")
    args = parser.parse_args()

    inputs = [{"tokens": words} for words in conll04_test_words(args.data_dir, args.sentences)]
    predictor = load_predictor(args.archive, precision=args.precision)
    model = predictor.model
    clock = ModuleClock(
        {
            "model": model,
            "encoder": model.embedder,
            "entity head": model.entity_head,
            "relation head": model.relation_head,
        }
    )
    figures = {"machine": cpu_description(), "sentences": len(inputs), "precision": args.precision, "batches": {}}
    print(f"{figures['machine']}")
    for batch_size in (1, 8):
        one_pass(predictor, clock, inputs, batch_size)  # warm-up
        passes = [one_pass(predictor, clock, inputs, batch_size) for _ in range(args.repeats)]
        seconds = {part: statistics.median(p[part] for p in passes) for part in PARTS}
        whole = sum(seconds.values())
        figures["batches"][batch_size] = {
            "seconds": seconds,
            "whole_seconds": whole,
            "sentences_per_second": len(inputs) / whole,
            "whole_over_encoder": whole / seconds["encoder"],
        }
        print(
            f"\nbatch {batch_size}: {len(inputs) / whole:.1f} sentences/s, whole path / encoder = "
            f"{whole / seconds['encoder']:.2f}"
        )
        for part in PARTS:
            print(f"  {part:<40} {seconds[part]:7.3f} s  {100 * seconds[part] / whole:5.1f} %")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

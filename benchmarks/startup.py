"""
CLI start-up: wall time of `allennlp --help` and of a one-sentence `allennlp predict` (float32,
and `onnx` with its graph exported at load or read from the ONNX cache), and what dominates the
import of the plugin.

    .venv/bin/python benchmarks/startup.py --archive runs/main/model.tar.gz [--repeats 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
ALLENNLP = [sys.executable, "-m", "allennlp"]


def wall(command, repeats, onnx_cache=None):
    """Median wall seconds of `command`; `onnx_cache()`, if given, names the SPERT_ONNX_CACHE of each run."""
    times = []
    for _ in range(repeats):
        env = dict(os.environ)
        if onnx_cache is not None:
            env["SPERT_ONNX_CACHE"] = onnx_cache()
        start = time.perf_counter()
        subprocess.run(command, cwd=PROJECT, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_profile(module, top=8):
    """The slowest cumulative imports of `python -X importtime -c 'import module'`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=PROJECT, capture_output=True, text=True
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                rows.append((int(cumulative) / 1e6, name.strip()))
    total = max(rows)[0] if rows else 0.0
    return total, sorted(rows, reverse=True)[:top]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--archive", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sentence = Path(tmp) / "one.jsonl"
        sentence.write_text(json.dumps({"sentence": "Steve Jobs founded Apple in Cupertino."}) + "\n")
        predict = ALLENNLP + ["predict", args.archive, str(sentence), "--silent"]
        predict += ["--output-file", str(Path(tmp) / "out.jsonl"), "--predictor-args"]
        onnx = predict + ['{"precision": "onnx"}']
        filled = str(Path(tmp) / "onnx-cache")
        wall(onnx, 1, lambda: filled)  # fills it

        def empty():
            return tempfile.mkdtemp(prefix="onnx-cache-", dir=tmp)

        record = {
            "allennlp_help_s": wall(ALLENNLP + ["--help"], args.repeats),
            "predict_one_sentence_s": wall(predict + ['{"precision": "float32"}'], args.repeats),
            "predict_one_sentence_onnx_exported_s": wall(onnx, args.repeats, empty),
            "predict_one_sentence_onnx_cached_s": wall(onnx, args.repeats, lambda: filled),
        }
    for module in ("allennlp.commands", "spert_mt_plugin"):
        total, rows = import_profile(module)
        record[f"import_{module}_s"] = total
        print(f"slowest imports under `import {module}` (cumulative s):")
        for seconds, name in rows:
            print(f"  {seconds:6.2f}  {name}")
    record["cpus"] = os.cpu_count()
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()

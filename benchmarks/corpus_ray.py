"""
What the Ray path costs: `allennlp spert-predict-corpus` against `allennlp predict` on the same
sentences (benchmarks/make_corpus.py builds them from the three datasets when missing).

    .venv/bin/python benchmarks/corpus_ray.py --archive runs/main/model.tar.gz [--sentences 10000] \
        [--batch-size 8] [--precision auto] [--output benchmarks/results/corpus_ray.json]

Runs, one after the other, each as a whole command (start-up, model loading and Ray included):

1. `allennlp predict` on all sentences, torch on every core;
2. two `allennlp predict` side by side, one thread each, on half the sentences each (the rate is
   all sentences over the slower one's time): what the cores give with no engine at all;
3. `allennlp spert-predict-corpus` with 1 actor on every core;
4. `allennlp spert-predict-corpus` with one actor per core.

Prints sentences/s of each, the ratios 4 / 2 (what Ray's pipeline costs with one actor per core)
and 3 / 1, each actor's peak memory (from the job's `_summary.json`) and the machine's CPU, and
checks that every path wrote one output line per input line. Run it on an otherwise idle machine:
speeds of commands run at different times are comparable only then. Asserts nothing.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))

from make_corpus import write_corpus  # noqa: E402

ALLENNLP = [sys.executable, "-m", "allennlp"]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(commands, threads):
    """Runs `commands` side by side (each with `threads` torch threads) and returns the slowest's seconds."""
    start = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), RAY_USAGE_STATS_ENABLED="0")
    processes = [
        subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=log)
        for command, log in commands
    ]
    for process, (command, _) in zip(processes, commands):
        if process.wait() != 0:
            raise SystemExit(f"failed: {' '.join(command)}")
    return time.perf_counter() - start


def lines(path: Path) -> int:
    return sum(1 for _ in open(path, "rb"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=8, help="rows per call of the predictor, in both paths")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", default=None, help="also write the figures here (JSON)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="corpus_ray_"))
    corpus = work / "corpus.jsonl"
    write_corpus(Path(args.data_dir), args.sentences, corpus)
    halves = [work / "half0.jsonl", work / "half1.jsonl"]
    text = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = len(text) // 2
    halves[0].write_text("".join(text[:middle]), encoding="utf-8")
    halves[1].write_text("".join(text[middle:]), encoding="utf-8")
    predictor_args = json.dumps({"precision": args.precision})
    log = open(work / "log.txt", "w")

    def predict(source: Path, output: Path):
        return ALLENNLP + ["predict", args.archive, str(source), "--output-file", str(output), "--silent"] + [
            "--batch-size",
            str(args.batch_size),
            "--predictor-args",
            predictor_args,
        ], log

    def ray_job(output: Path, actors: int, cpus: int):
        return ALLENNLP + ["spert-predict-corpus", args.archive, str(corpus), "-o", str(output)] + [
            "--num-actors",
            str(actors),
            "--cpus-per-actor",
            str(cpus),
            "--batch-size",
            str(args.batch_size),
            "--precision",
            args.precision,
        ], log

    figures = {"cpu": cpu_name(), "cores": args.cores, "sentences": args.sentences, "batch_size": args.batch_size}
    figures["precision"] = args.precision
    runs = {
        "allennlp predict, 1 process": ([predict(corpus, work / "one.jsonl")], args.cores),
        f"allennlp predict, {2} processes side by side": (
            [predict(halves[0], work / "h0.jsonl"), predict(halves[1], work / "h1.jsonl")],
            max(1, args.cores // 2),
        ),
        "Ray, 1 actor": ([ray_job(work / "ray1", 1, args.cores)], args.cores),
        f"Ray, {args.cores} actors": ([ray_job(work / "ray2", args.cores, 1)], 1),
    }
    rates = {}
    for name, (commands, threads) in runs.items():
        seconds = timed(commands, threads)
        rates[name] = args.sentences / seconds
        print(f"{name:<45} {seconds:8.1f} s  {rates[name]:7.1f} sentences/s", flush=True)
    for output in ("one.jsonl",):
        assert lines(work / output) == args.sentences
    assert lines(work / "h0.jsonl") + lines(work / "h1.jsonl") == args.sentences
    for job in ("ray1", "ray2"):
        assert sum(lines(part) for part in (work / job).glob("part-*.jsonl")) == args.sentences
        summary = json.loads((work / job / "_summary.json").read_text())
        figures[f"{job}_peak_memory_mb_per_actor"] = sorted(summary["peak_memory_mb_per_actor"].values())
    names = list(runs)
    figures["rates"] = rates
    figures["ray_actors_vs_side_by_side"] = rates[names[3]] / rates[names[1]]
    figures["ray_one_actor_vs_one_process"] = rates[names[2]] / rates[names[0]]
    print(
        f"Ray {args.cores} actors / {args.cores} allennlp predict side by side: "
        f"{figures['ray_actors_vs_side_by_side']:.3f}"
    )
    print(f"Ray 1 actor / 1 allennlp predict: {figures['ray_one_actor_vs_one_process']:.3f}")
    for job in ("ray1", "ray2"):
        print(f"peak memory per actor ({job}): {figures[job + '_peak_memory_mb_per_actor']} MB")
    print(f"CPU: {figures['cpu']}, {args.cores} cores; work folder {work}")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

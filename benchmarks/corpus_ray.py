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

Then, to say where the time goes: two `allennlp predict` side by side on one batch each (their
start-up: Python, AllenNLP and the archive), and from each Ray job's `_summary.json` the seconds
to its first prediction, each actor's loading and busy seconds (time inside its batches) and its
rate over its busy time.

With `--rounds N`, runs 2 and 4 are repeated, one after the other, N times (the machine's speed
drifts by 10 % and more over minutes on shared hosts); the ratio printed is their median, with
each round's. The figures of the time breakdown are those of the last round.

With `--running-cluster`, each round also runs 4 against a Ray cluster that is already running,
as on a cluster a team keeps up (`ray_head.py`: `ray start --head --block` with the same cores
in a Ray folder of its own, before the timing, and stopped after it, so that its idle processes
never run beside the other commands; the job joins it through `RAY_ADDRESS`): the command then pays neither Ray's
start nor its stop.

Prints sentences/s of each, the ratios 4 / 2 (what Ray's pipeline costs with one actor per core)
and 3 / 1, each actor's peak memory and the machine's CPU, and checks that every path wrote one
output line per input line. Run it on an otherwise idle machine:
speeds of commands run at different times are comparable only then. Asserts nothing.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))

from make_corpus import write_corpus  # noqa: E402
from ray_head import ray_head  # noqa: E402

ALLENNLP = [sys.executable, "-m", "allennlp"]

# Seconds a cluster started by `--running-cluster` is left alone before its job is timed.
CLUSTER_SETTLE_S = 15
# Ray (2.60) turns token authentication on for a `ray start` cluster when a token exists (such
# as ~/.ray/auth_token, left by an earlier `ray.init()` that started a Ray), and a job joining by
# address does not follow: both sides are told the same here.
RAY_AUTH_MODE = "disabled"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(commands, threads, ray_address=None):
    """Runs `commands` side by side (each with `threads` torch threads) and returns the slowest's seconds."""
    start = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), RAY_USAGE_STATS_ENABLED="0")
    if ray_address is not None:
        env.update(RAY_ADDRESS=ray_address, RAY_AUTH_MODE=RAY_AUTH_MODE)
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="times to run the two commands of the main ratio (2 and 4), one after the other, "
        "on a machine whose speed drifts: each round gives a ratio, and the median is printed",
    )
    parser.add_argument("--pairs-only", action="store_true", help="skip runs 1 and 3 (one process, one actor)")
    parser.add_argument(
        "--running-cluster",
        action="store_true",
        help="each round also runs the Ray job with one actor per core on a Ray cluster started before the timing",
    )
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
    starts = [work / "start0.jsonl", work / "start1.jsonl"]
    for path in starts:
        path.write_text("".join(text[: args.batch_size]), encoding="utf-8")
    runs["start-up: allennlp predict on one batch, 2 side by side"] = (
        [predict(starts[0], work / "s0.jsonl"), predict(starts[1], work / "s1.jsonl")],
        max(1, args.cores // 2),
    )
    names = list(runs)
    if args.pairs_only:
        runs = {name: run for name, run in runs.items() if name not in (names[0], names[2])}
    rates, seconds_of, round_ratios, cluster_ratios = {}, {}, [], []
    for round_number in range(args.rounds):
        for name, (commands, threads) in runs.items():
            if round_number > 0 and name not in (names[1], names[3]):
                continue
            if name == names[3]:
                shutil.rmtree(work / "ray2", ignore_errors=True)  # a finished job would only skip its shards
            seconds = seconds_of[name] = timed(commands, threads)
            if name.startswith("start-up"):
                print(f"{name:<45} {seconds:8.1f} s", flush=True)
                continue
            rates[name] = args.sentences / seconds
            print(f"{name:<45} {seconds:8.1f} s  {rates[name]:7.1f} sentences/s", flush=True)
        round_ratios.append(seconds_of[names[1]] / seconds_of[names[3]])
        print(f"round {round_number + 1}: Ray {args.cores} actors / side by side {round_ratios[-1]:.3f}", flush=True)
        if args.running_cluster:
            name = f"Ray, {args.cores} actors, running cluster"
            shutil.rmtree(work / "ray3", ignore_errors=True)
            with ray_head(args.cores, dict(os.environ, RAY_AUTH_MODE=RAY_AUTH_MODE), log) as address:
                # Ray's own processes import their modules for a few seconds after the head
                # listens: a cluster a team keeps up has long done so.
                time.sleep(CLUSTER_SETTLE_S)
                seconds = seconds_of[name] = timed([ray_job(work / "ray3", args.cores, 1)], 1, address)
            rates[name] = args.sentences / seconds
            print(f"{name:<45} {seconds:8.1f} s  {rates[name]:7.1f} sentences/s", flush=True)
            cluster_ratios.append(seconds_of[names[1]] / seconds)
            print(
                f"round {round_number + 1}: Ray {args.cores} actors on a running cluster / side by side "
                f"{cluster_ratios[-1]:.3f}",
                flush=True,
            )
    if not args.pairs_only:
        assert lines(work / "one.jsonl") == args.sentences
    assert lines(work / "h0.jsonl") + lines(work / "h1.jsonl") == args.sentences
    jobs = ["ray2"] if args.pairs_only else ["ray1", "ray2"]
    if args.running_cluster:
        jobs.append("ray3")
    for job in jobs:
        assert sum(lines(part) for part in (work / job).glob("part-*.jsonl")) == args.sentences
        summary = json.loads((work / job / "_summary.json").read_text())
        figures[f"{job}_peak_memory_mb_per_actor"] = sorted(summary["peak_memory_mb_per_actor"].values())
        figures[f"{job}_time"] = {
            "seconds_to_first_prediction": summary["seconds_to_first_prediction"],
            "load_seconds_per_actor": sorted(summary["load_seconds_per_actor"].values()),
            "busy_seconds_per_actor": sorted(summary["busy_seconds_per_actor"].values()),
            "rows_per_busy_second": summary["rows"] / sum(summary["busy_seconds_per_actor"].values()),
        }
    figures["rates"] = rates
    figures["rounds"] = [{"ratio": ratio} for ratio in round_ratios]
    for round_figures, cluster in zip(figures["rounds"], cluster_ratios):
        round_figures["running_cluster_ratio"] = cluster
    figures["ray_actors_vs_side_by_side"] = statistics.median(round_ratios)
    print(
        f"Ray {args.cores} actors / {args.cores} allennlp predict side by side: "
        f"{figures['ray_actors_vs_side_by_side']:.3f} (median of {len(round_ratios)} rounds)"
    )
    if cluster_ratios:
        figures["ray_running_cluster_vs_side_by_side"] = statistics.median(cluster_ratios)
        print(
            f"Ray {args.cores} actors on a running cluster / {args.cores} allennlp predict side by side: "
            f"{figures['ray_running_cluster_vs_side_by_side']:.3f} (median of {len(cluster_ratios)} rounds)"
        )
    if not args.pairs_only:
        figures["ray_one_actor_vs_one_process"] = rates[names[2]] / rates[names[0]]
        print(f"Ray 1 actor / 1 allennlp predict: {figures['ray_one_actor_vs_one_process']:.3f}")
    figures["start_up_seconds"] = seconds_of[names[4]]
    half = args.sentences // 2
    side_by_side_compute = seconds_of[names[1]] - seconds_of[names[4]]
    if side_by_side_compute > 0:
        print(
            f"allennlp predict side by side: {seconds_of[names[4]]:.1f} s start-up, then "
            f"{half / side_by_side_compute:.1f} sentences/s per process"
        )
    for job in jobs:
        time_figures = figures[job + "_time"]
        print(
            f"{job}: first prediction after {time_figures['seconds_to_first_prediction']:.1f} s; actors loaded in "
            f"{', '.join(f'{s:.1f}' for s in time_figures['load_seconds_per_actor'])} s, busy "
            f"{', '.join(f'{s:.1f}' for s in time_figures['busy_seconds_per_actor'])} s "
            f"({time_figures['rows_per_busy_second']:.1f} sentences per busy second of an actor)"
        )
        print(f"peak memory per actor ({job}): {figures[job + '_peak_memory_mb_per_actor']} MB")
    print(f"CPU: {figures['cpu']}, {args.cores} cores; work folder {work}")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

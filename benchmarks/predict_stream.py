"""
`allennlp predict` at corpus scale: throughput and memory over time on a large JSON Lines file
(benchmarks/make_corpus.py builds it from the three datasets' sentences when it is missing).

    .venv/bin/python benchmarks/predict_stream.py --archive runs/main/model.tar.gz \
        [--corpus /tmp/corpus.jsonl] [--sentences 100000] [--batch-size 8] [--precision auto] \
        [--sample-seconds 5] [--output benchmarks/results/predict_stream.json]

Runs `allennlp predict ARCHIVE CORPUS --batch-size B --silent --output-file ...` as a child process
and samples, every few seconds, its resident memory (RSS, from /proc) and the lines it has written.
Prints a checkpoint at each tenth of the corpus (lines, sentences/s overall and since the last
checkpoint, RSS), then the throughput after start-up (from the first line written) and the memory
growth between the first checkpoint and the end: flat memory means AllenNLP reads the input lazily
and the predictor keeps nothing per line. Checks that every input line got one output line.
Asserts nothing else; Linux only (/proc).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))

from make_corpus import write_corpus  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid` (`allennlp predict` is one process), MB."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class LineCounter:
    """Counts the lines of a file being written, reading only what was added since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def count(self) -> int:
        if self.path.exists():
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                added = file.read()
            self.offset += len(added)
            self.lines += added.count(b"\n")
        return self.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--corpus", default="/tmp/spert_corpus.jsonl", help="built if missing")
    parser.add_argument("--sentences", type=int, default=100_000, help="lines of the corpus to build")
    parser.add_argument("--form", choices=("tokens", "sentence"), default="tokens")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--predictions", default=None, help="where allennlp predict writes (default: beside --output)")
    parser.add_argument("--output", default=str(PROJECT / "benchmarks" / "results" / "predict_stream.json"))
    args = parser.parse_args()

    corpus = Path(args.corpus)
    if not corpus.exists():
        write_corpus(Path(args.data_dir), args.sentences, corpus, args.form)
    with open(corpus, "rb") as file:
        total = sum(1 for line in file if line.strip())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    predictions = Path(args.predictions or output.with_suffix(".predictions.jsonl"))
    predictions.unlink(missing_ok=True)
    log = output.with_suffix(".log")
    command = [sys.executable, "-m", "allennlp", "predict", args.archive, str(corpus), "--silent"]
    command += ["--batch-size", str(args.batch_size), "--output-file", str(predictions)]
    # The plugin loads through .allennlp_plugins in the project root, the child's working directory.
    command += ["--predictor-args", json.dumps({"precision": args.precision})]
    print(" ".join(command), file=sys.stderr)

    counter = LineCounter(predictions)
    samples = []
    checkpoints = []
    next_checkpoint = 1
    start = time.perf_counter()
    first_line = None
    with open(log, "w") as log_file:
        child = subprocess.Popen(command, cwd=PROJECT, stdout=log_file, stderr=subprocess.STDOUT)
        while True:
            finished = child.poll() is not None
            elapsed = time.perf_counter() - start
            lines = counter.count()
            try:
                memory = round(rss_mb(child.pid), 1) if not finished else None
            except (FileNotFoundError, ProcessLookupError):
                finished, memory = True, None
            if memory is None and samples:
                # After the exit: the last lines, with the last memory seen.
                memory = samples[-1]["rss_mb"]
            if memory is not None:
                samples.append({"seconds": round(elapsed, 2), "lines": lines, "rss_mb": memory})
                if lines and first_line is None:
                    first_line = samples[-1]
            while samples and next_checkpoint <= 10 and samples[-1]["lines"] >= total * next_checkpoint / 10:
                sample = samples[-1]
                previous = checkpoints[-1] if checkpoints else first_line
                rate = (sample["lines"] - first_line["lines"]) / max(sample["seconds"] - first_line["seconds"], 1e-9)
                recent = (sample["lines"] - previous["lines"]) / max(sample["seconds"] - previous["seconds"], 1e-9)
                checkpoints.append(
                    dict(sample, sentences_per_s=round(rate, 1), recent_sentences_per_s=round(recent, 1))
                )
                print(
                    f"{next_checkpoint * 10:3d} %  {sample['seconds']:8.1f} s  {sample['lines']:7d} lines  "
                    f"{rate:6.1f} sentences/s (since the last: {recent:6.1f})  RSS {sample['rss_mb']:7.1f} MB",
                    file=sys.stderr,
                )
                next_checkpoint += 1
            if finished:
                break
            time.sleep(args.sample_seconds)
    wall = time.perf_counter() - start
    written = counter.count()
    if child.returncode != 0:
        raise SystemExit(f"allennlp predict failed (status {child.returncode}); its log: {log}")
    if written != total:
        raise SystemExit(f"{written} output lines for {total} input lines; see {log}")
    # Memory after the first tenth (model loaded, caches warm) against the rest of the run.
    steady = [s for s in samples if s["lines"] >= total / 10] or samples
    record = {
        "command": command,
        "corpus": str(corpus),
        "input_lines": total,
        "batch_size": args.batch_size,
        "precision": args.precision,
        "cpus": os.cpu_count(),
        "torch_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "wall_seconds": round(wall, 1),
        "startup_seconds": first_line["seconds"] if first_line else None,
        "sentences_per_s_after_startup": round(
            (samples[-1]["lines"] - first_line["lines"]) / (samples[-1]["seconds"] - first_line["seconds"]), 1
        )
        if first_line and samples[-1]["seconds"] > first_line["seconds"]
        else None,
        "rss_mb_at_first_tenth": steady[0]["rss_mb"],
        "rss_mb_max_after_first_tenth": max(s["rss_mb"] for s in steady),
        "rss_mb_last": samples[-1]["rss_mb"] if samples else None,
        "checkpoints": checkpoints,
        "samples": samples,
    }
    output.write_text(json.dumps(record, indent=2))
    print(
        f"{total} sentences in {wall:.0f} s ({record['startup_seconds']} s start-up): "
        f"{record['sentences_per_s_after_startup']} sentences/s; RSS {record['rss_mb_at_first_tenth']} MB at a tenth, "
        f"at most {record['rss_mb_max_after_first_tenth']} MB after; written to {output}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()

"""
A bounded load test of the HTTP service (127.0.0.1 only).

Sends a fixed number of requests from several clients at once, a mix of good, malformed and
oversized ones, while a separate client polls `/health`; prints requests/s, latency percentiles
and the count of each status per kind of request. Exits with status 1 if any request is lost (no
answer within the timeout), any answer is not JSON, `/health` stops answering, a malformed or
oversized request is not answered 4xx, or a good one is not answered 200.

    # start the service itself (what docs/serving.md reports)
    python benchmarks/load_test.py --archive model.tar.gz --workers 2
    # or test one that runs already
    python benchmarks/load_test.py --url http://127.0.0.1:8000
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "John Smith works for IBM in New York.",
    "Ada Lovelace was born in London and worked with Charles Babbage.",
    "The president of France, Emmanuel Macron, met Olaf Scholz in Berlin on Monday.",
    "Lee Harvey Oswald shot John F. Kennedy in Dallas, Texas.",
    "Maria works at the United Nations office in Geneva.",
    "Microsoft, based in Redmond, hired Sarah Jones as its new chief scientist.",
]


def good_request(rng: random.Random) -> Tuple[bytes, str]:
    kind = rng.choice(["sentence", "tokens", "document", "batch"])
    if kind == "sentence":
        body = {"sentence": rng.choice(SENTENCES)}
    elif kind == "tokens":
        body = {"tokens": rng.choice(SENTENCES).replace(".", " .").replace(",", " ,").split()}
    elif kind == "document":
        body = {"document": " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(5, 30)))}
    else:
        body = {"instances": [{"sentence": rng.choice(SENTENCES)} for _ in range(rng.randint(2, 8))]}
    return json.dumps(body).encode(), "application/json"


def malformed_request(rng: random.Random) -> Tuple[bytes, str]:
    choices = [
        (b"{not json", "application/json"),
        (b'{"sentence": "Bob met Carol."}', "text/plain"),
        (json.dumps({"text": "Bob"}).encode(), "application/json"),
        (json.dumps({"sentence": 42}).encode(), "application/json"),
        (json.dumps({"tokens": ["Bob", ""]}).encode(), "application/json"),
        (json.dumps({"instances": []}).encode(), "application/json"),
        (json.dumps({"sentence": "   "}).encode(), "application/json"),
        (json.dumps(["Bob"]).encode(), "application/json"),
    ]
    return rng.choice(choices)


def oversized_request(rng: random.Random) -> Tuple[bytes, str]:
    kind = rng.choice(["bytes", "words", "sentence"])
    if kind == "bytes":  # over the 2 MB body limit
        body = {"document": "Bob met Carol. " * 150_000}
    elif kind == "words":  # under 2 MB, but 75,000 short sentences (and over spaCy's max_length)
        body = {"document": "Bob met Carol in Rome. " * 75_000}
    else:  # one sentence of 1,500 words
        body = {"tokens": ["word"] * 1_500}
    return json.dumps(body).encode(), "application/json"


def send(url: str, body: bytes, content_type: str, timeout: float) -> Tuple[Optional[int], bool, float]:
    """(status or None if lost, answer is JSON, seconds)."""
    started = time.perf_counter()
    request = urllib.request.Request(url + "/predict", data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    except OSError:
        return None, False, time.perf_counter() - started
    try:
        json.loads(payload)
        is_json = True
    except ValueError:
        is_json = False
    return status, is_json, time.perf_counter() - started


class HealthWatch(threading.Thread):
    """Polls /health every `interval` seconds; counts answers that are not a JSON 200."""

    def __init__(self, url: str, interval: float = 0.5, timeout: float = 30.0) -> None:
        super().__init__(daemon=True)
        self.url, self.interval, self.timeout = url, interval, timeout
        self.polls = self.failures = 0
        self.slowest = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=self.timeout) as response:
                    ok = response.status == 200 and json.loads(response.read())["status"] == "ok"
            except (OSError, ValueError, KeyError):
                ok = False
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.polls += 1
            self.failures += not ok
            self.stop.wait(self.interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(args: argparse.Namespace) -> Tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "allennlp",
        "spert-serve",
        args.archive,
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
    ]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"spert-serve exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    sys.exit("spert-serve did not answer /health within 300 s")


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="a running service, e.g. http://127.0.0.1:8000 (127.0.0.1 only)")
    source.add_argument("--archive", help="start `allennlp spert-serve ARCHIVE` for the test")
    parser.add_argument("--workers", type=int, default=2, help="with --archive (default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="with --archive (default: 1)")
    parser.add_argument("--requests", type=int, default=200, help="requests in all (default: 200)")
    parser.add_argument("--clients", type=int, default=8, help="requests in flight at once (default: 8)")
    parser.add_argument("--malformed", type=float, default=0.25, help="share of malformed requests (default: 0.25)")
    parser.add_argument("--oversized", type=float, default=0.05, help="share of oversized requests (default: 0.05)")
    parser.add_argument("--request-timeout", type=float, default=120.0, help="seconds before a request counts as lost")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the whole test (default: 300)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    process = None
    if args.archive:
        process, url = start_service(args)
    else:
        url = args.url.rstrip("/")
        if not url.startswith(("http://127.0.0.1", "http://localhost")):
            parser.error("--url must be on 127.0.0.1 or localhost")

    rng = random.Random(args.seed)
    plan = []
    for _ in range(args.requests):
        draw = rng.random()
        kind = (
            "oversized" if draw < args.oversized else "malformed" if draw < args.oversized + args.malformed else "good"
        )
        maker = {"good": good_request, "malformed": malformed_request, "oversized": oversized_request}[kind]
        plan.append((kind, *maker(rng)))

    health = HealthWatch(url)
    health.start()
    results: List[Tuple[str, Optional[int], bool, float]] = []
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(args.clients) as pool:
            futures = [
                pool.submit(send, url, body, content_type, args.request_timeout) for _, body, content_type in plan
            ]
            for (kind, _, _), future in zip(plan, futures):
                remaining = args.time_limit - (time.perf_counter() - started)
                try:
                    results.append((kind, *future.result(timeout=max(remaining, 0.001))))
                except Exception:  # over the time limit: counted as lost
                    results.append((kind, None, False, float("nan")))
            for future in futures:
                future.cancel()
    finally:
        elapsed = time.perf_counter() - started
        health.stop.set()
        health.join(timeout=60)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    answered = [r for r in results if r[1] is not None]
    latencies = [r[3] for r in answered]
    print(
        f"service: {url}"
        + (f" (spert-serve --workers {args.workers} --threads {args.threads})" if args.archive else "")
    )
    print(
        f"requests: {len(results)} from {args.clients} clients in {elapsed:.1f} s: "
        f"{len(answered) / elapsed:.2f} requests/s"
    )
    if latencies:
        print(
            f"latency: p50 {percentile(latencies, 50):.3f} s, p95 {percentile(latencies, 95):.3f} s, "
            f"p99 {percentile(latencies, 99):.3f} s, max {max(latencies):.3f} s"
        )
    statuses: Dict[str, Counter] = {}
    for kind, status, _, _ in results:
        statuses.setdefault(kind, Counter())[status if status is not None else "lost"] += 1
    for kind in ("good", "malformed", "oversized"):
        if kind in statuses:
            print(
                f"  {kind:9s}: "
                + ", ".join(f"{status} x {count}" for status, count in sorted(statuses[kind].items(), key=str))
            )
    print(f"/health: {health.polls} polls, {health.failures} failed, slowest {health.slowest:.3f} s")

    problems = []
    lost = sum(r[1] is None for r in results)
    not_json = sum(r[1] is not None and not r[2] for r in results)
    if lost:
        problems.append(f"{lost} requests lost")
    if not_json:
        problems.append(f"{not_json} answers not JSON")
    if health.failures or health.polls == 0:
        problems.append(f"/health failed {health.failures} of {health.polls} polls")
    for kind, expected in (("malformed", "4xx"), ("oversized", "4xx"), ("good", "200")):
        wrong = sum(
            1
            for k, status, _, _ in results
            if k == kind and status is not None and not (400 <= status < 500 if expected == "4xx" else status == 200)
        )
        if wrong:
            problems.append(f"{wrong} {kind} requests not answered {expected}")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("PASS" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())

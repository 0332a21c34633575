"""
A bounded load test of the HTTP service (127.0.0.1 only), optionally with a fault under load.

Sends a fixed number of requests from several clients at once, a mix of good, malformed and
oversized ones, while a separate client polls `/health`; prints requests/s, latency percentiles
and the count of each status per kind of request. Exits with status 1 if any request is lost (a
dropped or refused connection, or no answer within --request-timeout), any answer is not JSON,
`/health` stops answering, a malformed or oversized request is not answered 4xx, or a good one is
not answered 200.

Two scenarios add a fault once --fault-at of the requests are answered. They signal gunicorn's
processes, so they need the master's process id: the service started with --archive, or
--master-pid with --url.

--kill-worker: SIGKILL one worker. Only the requests that worker held at that moment (the
  connections it had accepted, read from /proc while it is stopped) may end without an answer,
  and only with a connection error; any other lost request, or any request still without an answer
  after --request-timeout, fails the test. The master must fork a replacement and /health must
  answer within --recovery-limit (by default the service's start-up time, the model's load).

--terminate: SIGTERM the master while one long request per worker (a document of
  --long-sentences sentences) computes. Every request the workers held at that moment must get its
  answer (200 for a good one) and the master must exit with status 0; requests that arrive later
  get a connection error (counted, not a failure), but none may hang. After the exit the port must
  refuse connections.

    # start the service itself (what docs/serving.md reports)
    python benchmarks/load_test.py --archive model.tar.gz --workers 2
    python benchmarks/load_test.py --archive model.tar.gz --workers 2 --requests 400 --kill-worker
    python benchmarks/load_test.py --archive model.tar.gz --workers 2 --terminate
    # or test one that runs already
    python benchmarks/load_test.py --url http://127.0.0.1:8000
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --master-pid 1234 --kill-worker
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "John Smith works for IBM in New York.",
    "Ada Lovelace was born in London and worked with Charles Babbage.",
    "The president of France, Emmanuel Macron, met Olaf Scholz in Berlin on Monday.",
    "Lee Harvey Oswald shot John F. Kennedy in Dallas, Texas.",
    "Maria works at the United Nations office in Geneva.",
    "Microsoft, based in Redmond, hired Sarah Jones as its new chief scientist.",
]

PLAN_KINDS = ("good", "malformed", "oversized")


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


def long_request(sentences: int) -> Tuple[bytes, str]:
    # 11 words a sentence: 1,000 sentences stay under the default 20,000 words per request.
    return json.dumps({"document": " ".join([SENTENCES[1]] * sentences)}).encode(), "application/json"


@dataclass
class Outcome:
    kind: str
    started: float
    # The client's local port names the connection in the server's /proc tables.
    port: Optional[int] = None
    ended: Optional[float] = None
    status: Optional[int] = None
    is_json: bool = False
    health_ok: bool = False
    # None for an answer; "hung" (nothing within --request-timeout), "refused" or "dropped".
    error: Optional[str] = None
    detail: str = ""

    @property
    def seconds(self) -> float:
        return (self.ended or self.started) - self.started

    def as_expected(self) -> bool:
        """An answer of the status (and, for /health, the content) that this kind of request must get."""
        if self.error is not None or not self.is_json or self.status is None:
            return False
        if self.kind in ("malformed", "oversized"):
            return 400 <= self.status < 500
        if self.kind in ("health", "probe"):
            return self.status == 200 and self.health_ok
        return self.status == 200


class Client:
    """Sends requests and keeps every outcome with its connection's port and times."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.outcomes: List[Outcome] = []
        self.lock = threading.Lock()

    def request(
        self, kind: str, path: str, body: Optional[bytes] = None, content_type: Optional[str] = None
    ) -> Outcome:
        outcome = Outcome(kind, time.monotonic())
        with self.lock:
            self.outcomes.append(outcome)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        payload = b""
        try:
            connection.connect()
            outcome.port = connection.sock.getsockname()[1]
            headers = {"Content-Type": content_type} if content_type else {}
            connection.request("POST" if body is not None else "GET", path, body=body, headers=headers)
            response = connection.getresponse()
            outcome.status, payload = response.status, response.read()
        except TimeoutError:
            outcome.error, outcome.detail = "hung", f"no answer within {self.timeout:g} s"
        except ConnectionRefusedError:
            outcome.error, outcome.detail = "refused", "ConnectionRefusedError"
        except (OSError, http.client.HTTPException) as error:
            outcome.error, outcome.detail = "dropped", type(error).__name__
        finally:
            connection.close()
            outcome.ended = time.monotonic()
        if outcome.error is None:
            try:
                answer = json.loads(payload)
                outcome.is_json = True
                outcome.health_ok = isinstance(answer, dict) and answer.get("status") == "ok"
            except ValueError:
                pass
        return outcome

    def answered(self) -> int:
        with self.lock:
            return sum(o.ended is not None for o in self.outcomes if o.kind in PLAN_KINDS)


class HealthWatch(threading.Thread):
    """Polls /health every `interval` seconds through `client`, which judges the answers."""

    def __init__(self, client: Client, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.client, self.interval = client, interval
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.client.request("health", "/health")
            self.stop.wait(self.interval)


def children(pid: int) -> List[int]:
    """The live child processes of `pid` (a gunicorn master's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            stat = file.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def held_connections(pid: int, port: int) -> Set[int]:
    """The client ports of the connections to `port` that process `pid` holds (accepted, not yet closed)."""
    inodes = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    held = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                lines = file.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            # 0A: the listening socket, which every worker shares.
            if inode in inodes and state != "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                held.add(int(remote.rsplit(":", 1)[1], 16))
    return held


class Fault(threading.Thread):
    """Waits until `trigger_after` requests are answered, then kills a worker or terminates the master."""

    def __init__(
        self,
        mode: str,
        master_pid: int,
        client: Client,
        trigger_after: int,
        args: argparse.Namespace,
        process: Optional[subprocess.Popen],
        recovery_limit: float,
    ) -> None:
        super().__init__(daemon=True)
        self.mode, self.master_pid, self.client = mode, master_pid, client
        self.trigger_after, self.args, self.process = trigger_after, args, process
        self.recovery_limit = recovery_limit
        self.load_done = threading.Event()
        self.lines: List[str] = []
        self.problems: List[str] = []
        self.held: Set[int] = set()
        self.fired: Optional[float] = None
        self.answered_before = 0

    def run(self) -> None:
        while self.client.answered() < self.trigger_after:
            if self.load_done.wait(0.01):
                self.problems.append("the load ended before the fault was set off")
                return
        self.answered_before = self.client.answered()
        if self.mode == "kill-worker":
            self.kill_worker()
        else:
            self.terminate()

    def kill_worker(self) -> None:
        workers = children(self.master_pid)
        if not workers:
            self.problems.append(f"process {self.master_pid} has no workers to kill")
            return
        # A worker between two requests would lose nothing: catch one (for up to 5 s) that holds a request.
        # Stopped, it can neither accept nor finish one: what it holds then is exactly what SIGKILL cuts off.
        deadline = time.monotonic() + 5
        while True:
            busy = [pid for pid in workers if held_connections(pid, self.client.port)]
            victim = busy[0] if busy else workers[0]
            os.kill(victim, signal.SIGSTOP)
            self.held = held_connections(victim, self.client.port)
            if self.held or time.monotonic() > deadline:
                break
            os.kill(victim, signal.SIGCONT)
            time.sleep(0.002)
        self.fired = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        self.lines.append(
            f"fault: SIGKILL worker {victim} of {len(workers)} after {self.answered_before} answered requests; "
            f"it held {len(self.held)} connection(s)"
        )
        spawned = health_back = first_request = None
        replacement = None
        deadline = self.fired + self.recovery_limit + 10
        while time.monotonic() < deadline:
            now = time.monotonic()
            if spawned is None:
                current = children(self.master_pid)
                new = [pid for pid in current if pid not in workers]
                if new and victim not in current and len(current) >= len(workers):
                    spawned, replacement = now, new[0]
            if spawned is not None and health_back is None:
                try:
                    with urllib.request.urlopen(self.client_url() + "/health", timeout=5) as response:
                        if response.status == 200 and json.loads(response.read()).get("status") == "ok":
                            health_back = time.monotonic()
                except (OSError, ValueError):
                    pass
            if replacement is not None and first_request is None and held_connections(replacement, self.client.port):
                first_request = time.monotonic()
            if health_back is not None and (first_request is not None or self.load_done.is_set()):
                break
            time.sleep(0.01)
        if spawned is None:
            self.problems.append(f"the master did not replace the killed worker within {deadline - self.fired:.0f} s")
            return
        if health_back is None:
            self.problems.append(f"/health did not answer within {deadline - self.fired:.0f} s of the kill")
            return
        recovered = max(spawned, health_back) - self.fired
        self.lines.append(
            f"recovery: replacement worker {replacement} forked {spawned - self.fired:.3f} s after the kill, "
            f"all {len(workers)} workers up and /health answering after {recovered:.3f} s"
            + (
                f", the replacement's first request taken after {first_request - self.fired:.3f} s"
                if first_request is not None
                else " (the replacement took no request before the load ended)"
            )
            + f" (limit {self.recovery_limit:.1f} s)"
        )
        if recovered > self.recovery_limit:
            self.problems.append(f"recovery took {recovered:.3f} s, over the limit of {self.recovery_limit:.1f} s")

    def terminate(self) -> None:
        workers = children(self.master_pid)
        body, content_type = long_request(self.args.long_sentences)
        longs = [
            threading.Thread(target=self.client.request, args=("long", "/predict", body, content_type), daemon=True)
            for _ in workers
        ]
        for thread in longs:
            thread.start()
        # SIGTERM once every long request computes in a worker, so that the shutdown has to wait for them.
        deadline = time.monotonic() + 60
        while True:
            held = set().union(*(held_connections(pid, self.client.port) for pid in workers))
            with self.client.lock:
                long_ports = {o.port for o in self.client.outcomes if o.kind == "long" and o.ended is None}
            if len(long_ports) == len(workers) and None not in long_ports and long_ports <= held:
                break
            if time.monotonic() > deadline:
                self.problems.append("the long requests were not all taken by workers within 60 s")
                break
            time.sleep(0.005)
        self.held, self.fired = held, time.monotonic()
        os.kill(self.master_pid, signal.SIGTERM)
        self.lines.append(
            f"fault: SIGTERM the master {self.master_pid} ({len(workers)} workers) after {self.answered_before} "
            f"answered requests, its workers holding {len(held)} connection(s), "
            f"{len(workers)} of them long requests ({self.args.long_sentences} sentences)"
        )
        limit = self.args.request_timeout + 30
        status = None
        if self.process is not None:
            try:
                status = self.process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                pass
        else:
            while alive(self.master_pid) and time.monotonic() - self.fired < limit:
                time.sleep(0.01)
        exited = time.monotonic()
        if alive(self.master_pid):
            self.problems.append(f"the master had not exited {limit:.0f} s after SIGTERM")
            return
        for thread in longs:
            thread.join(timeout=limit)
        self.lines.append(
            f"shutdown: the master exited {exited - self.fired:.3f} s after SIGTERM"
            + (f" with status {status}" if status is not None else "")
        )
        if status not in (None, 0):
            self.problems.append(f"the master exited with status {status}")
        probe = self.client.request("probe", "/health")
        self.lines.append(
            "after the exit, a new connection: " + (probe.detail if probe.error else f"answered {probe.status}")
        )
        if probe.error != "refused":
            self.problems.append("the port did not refuse connections after the master exited")

    def client_url(self) -> str:
        return f"http://{self.client.host}:{self.client.port}"

    def held_outcomes(self) -> Tuple[List[Outcome], int]:
        """The requests whose connections a worker held when the fault was set off; and the count of
        held connections that are none of this test's (another client's)."""
        if self.fired is None:
            return [], 0
        found, foreign = [], 0
        with self.client.lock:
            outcomes = list(self.client.outcomes)
        for port in self.held:
            # A port could be reused within a run: the connection held is the latest opened before the fault.
            candidates = [o for o in outcomes if o.port == port and o.started <= self.fired]
            if candidates:
                found.append(max(candidates, key=lambda o: o.started))
            else:
                foreign += 1
        return found, foreign


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(args: argparse.Namespace) -> Tuple[subprocess.Popen, str, float]:
    """The service's process (gunicorn's master), its URL, and the seconds it took to answer /health."""
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
    log = open(args.service_log, "w") if args.service_log else subprocess.DEVNULL
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"spert-serve exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return process, url, time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("spert-serve did not answer /health within 300 s")


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def judge(outcomes: List[Outcome], mode: Optional[str], fault: Optional[Fault]) -> Tuple[List[str], List[str]]:
    """(lines to print, problems) for every request, the fault's own requests included."""
    lines, problems = [], []
    held, foreign = fault.held_outcomes() if fault is not None else ([], 0)
    held_ids = {id(o) for o in held}
    fired = fault.fired if fault is not None else None
    hung = [o for o in outcomes if o.error == "hung"]
    if hung:
        kinds = Counter(o.kind for o in hung)
        problems.append(
            f"{len(hung)} requests hung: no answer within --request-timeout "
            f"({', '.join(f'{k} x {n}' for k, n in sorted(kinds.items()))})"
        )
    failed = [o for o in outcomes if o.error in ("refused", "dropped")]
    if mode == "kill-worker" and fired is not None:
        cut = [o for o in failed if id(o) in held_ids]
        other = [o for o in failed if id(o) not in held_ids]
        lines.append(
            f"lost with the killed worker: {len(cut)} of the {len(held)} requests it held "
            f"({', '.join(f'{o.kind}: {o.detail}' for o in cut) or 'none'})"
            + (f"; it also held {foreign} connection(s) of other clients" if foreign else "")
        )
        answered_held = [o for o in held if o.error is None]
        if answered_held:
            lines.append(f"  answered anyway (their answer was sent before the kill): {len(answered_held)}")
        if other:
            problems.append(
                f"{len(other)} requests lost that the killed worker did not hold "
                f"({', '.join(sorted(set(f'{o.kind}: {o.detail}' for o in other)))})"
            )
        wrong = [o for o in outcomes if o.error is None and not o.as_expected()]
    elif mode == "terminate" and fired is not None:
        unanswered = [o for o in held if not o.as_expected()]
        last = max((o.ended or 0 for o in held), default=fired)
        lines.append(
            f"in flight at SIGTERM: {len(held)} requests, {len(held) - len(unanswered)} answered as expected "
            f"({', '.join(f'{k} x {n}' for k, n in sorted(Counter(o.kind for o in held).items()))}), "
            f"the last {last - fired:.3f} s after SIGTERM"
        )
        if foreign:
            lines.append(f"  and {foreign} connection(s) of other clients")
        if unanswered:
            problems.append(
                f"{len(unanswered)} requests in flight at SIGTERM not answered as expected: "
                + ", ".join(sorted(set(f"{o.kind}: {o.error or o.status}" for o in unanswered)))
            )
        later = [o for o in failed if id(o) not in held_ids and o.kind != "probe"]
        lines.append("no answer, not taken by a worker before SIGTERM:")
        for name, group in (
            ("waiting in the listen queue", [o for o in later if o.started < fired]),
            ("sent after SIGTERM", [o for o in later if o.started >= fired]),
        ):
            errors = Counter(o.detail for o in group)
            lines.append(
                f"  {name}: {len(group)}"
                + (
                    f" ({', '.join(f'{e} x {n}' for e, n in sorted(errors.items()))}), "
                    f"the last {max(o.ended for o in group) - fired:.3f} s after SIGTERM"
                    if group
                    else ""
                )
            )
        wrong = [o for o in outcomes if o.error is None and not o.as_expected()]
    else:
        if failed:
            kinds = Counter(f"{o.kind}: {o.detail}" for o in failed)
            problems.append(
                f"{len(failed)} requests lost ({', '.join(f'{k} x {n}' for k, n in sorted(kinds.items()))})"
            )
        wrong = [o for o in outcomes if o.error is None and not o.as_expected()]
    not_json = [o for o in wrong if not o.is_json]
    if not_json:
        problems.append(f"{len(not_json)} answers not JSON")
    for kind, expected in (("malformed", "4xx"), ("oversized", "4xx"), ("good", "200"), ("long", "200")):
        count = sum(o.kind == kind and o.is_json for o in wrong)
        if count:
            problems.append(f"{count} {kind} requests not answered {expected}")
    polls = [o for o in outcomes if o.kind == "health"]
    bad_polls = [o for o in wrong if o.kind == "health" and o.is_json]
    if not polls:
        problems.append("/health was never polled")
    if bad_polls:
        problems.append(f"/health answered {len(bad_polls)} of {len(polls)} polls without status ok")
    return lines, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="a running service, e.g. http://127.0.0.1:8000 (127.0.0.1 only)")
    source.add_argument("--archive", help="start `allennlp spert-serve ARCHIVE` for the test")
    parser.add_argument("--workers", type=int, default=2, help="with --archive (default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="with --archive (default: 1)")
    parser.add_argument("--service-log", help="with --archive: write the service's log here (default: discard it)")
    parser.add_argument("--requests", type=int, default=200, help="requests in all (default: 200)")
    parser.add_argument("--clients", type=int, default=8, help="requests in flight at once (default: 8)")
    parser.add_argument("--malformed", type=float, default=0.25, help="share of malformed requests (default: 0.25)")
    parser.add_argument("--oversized", type=float, default=0.05, help="share of oversized requests (default: 0.05)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=120.0,
        help="seconds without an answer after which a request counts as hung (default: 120)",
    )
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds for the whole test (default: 300)")
    parser.add_argument("--seed", type=int, default=13)
    faults = parser.add_mutually_exclusive_group()
    faults.add_argument("--kill-worker", action="store_true", help="SIGKILL one gunicorn worker under load")
    faults.add_argument(
        "--terminate", action="store_true", help="SIGTERM the gunicorn master while long requests compute"
    )
    parser.add_argument(
        "--fault-at",
        type=float,
        default=0.5,
        help="share of the requests answered before the fault (default: 0.5)",
    )
    parser.add_argument("--master-pid", type=int, help="with --url and a fault: the gunicorn master's process id")
    parser.add_argument(
        "--recovery-limit",
        type=float,
        help="--kill-worker: seconds within which the workers must be back and /health answer "
        "(default: the service's start-up time with --archive, else 60)",
    )
    parser.add_argument(
        "--long-sentences",
        type=int,
        default=1000,
        help="--terminate: sentences in each long request (default: 1000, 11,000 words)",
    )
    args = parser.parse_args()
    mode = "kill-worker" if args.kill_worker else "terminate" if args.terminate else None

    process = None
    startup = None
    if args.archive:
        process, url, startup = start_service(args)
        master_pid: Optional[int] = process.pid
    else:
        url = args.url.rstrip("/")
        if not url.startswith(("http://127.0.0.1", "http://localhost")):
            parser.error("--url must be on 127.0.0.1 or localhost")
        master_pid = args.master_pid
        if mode and master_pid is None:
            parser.error("--kill-worker and --terminate with --url need --master-pid")

    rng = random.Random(args.seed)
    plan = []
    for _ in range(args.requests):
        draw = rng.random()
        kind = (
            "oversized" if draw < args.oversized else "malformed" if draw < args.oversized + args.malformed else "good"
        )
        maker = {"good": good_request, "malformed": malformed_request, "oversized": oversized_request}[kind]
        plan.append((kind, *maker(rng)))

    client = Client(url, args.request_timeout)
    fault = None
    if mode:
        recovery_limit = args.recovery_limit or (startup if startup is not None else 60.0)
        trigger = max(1, min(args.requests - 1, int(args.requests * args.fault_at)))
        fault = Fault(mode, master_pid, client, trigger, args, process, recovery_limit)
        fault.start()
    health = HealthWatch(client)
    health.start()
    results: List[Outcome] = []
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(args.clients) as pool:
            futures = [
                pool.submit(client.request, kind, "/predict", body, content_type) for kind, body, content_type in plan
            ]
            for kind, future in zip((p[0] for p in plan), futures):
                remaining = args.time_limit - (time.perf_counter() - started)
                try:
                    results.append(future.result(timeout=max(remaining, 0.001)))
                except Exception:  # over the time limit: counted as hung
                    results.append(Outcome(kind, time.monotonic(), error="hung", detail="over --time-limit"))
            for future in futures:
                future.cancel()
    finally:
        elapsed = time.perf_counter() - started
        if fault is not None:
            fault.load_done.set()
            fault.join(timeout=args.request_timeout + 60)
        health.stop.set()
        health.join(timeout=60)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    answered = [o for o in results if o.error is None]
    latencies = [o.seconds for o in answered]
    print(
        f"service: {url}"
        + (f" (spert-serve --workers {args.workers} --threads {args.threads})" if args.archive else "")
        + (f", up and answering /health {startup:.1f} s after the start" if startup is not None else "")
    )
    print(
        f"requests: {len(results)} from {args.clients} clients in {elapsed:.1f} s: "
        f"{len(answered) / elapsed:.2f} requests/s (answered)"
    )
    if latencies:
        print(
            f"latency: p50 {percentile(latencies, 50):.3f} s, p95 {percentile(latencies, 95):.3f} s, "
            f"p99 {percentile(latencies, 99):.3f} s, max {max(latencies):.3f} s"
        )
    with client.lock:
        everything = list(client.outcomes)
    statuses: Dict[str, Counter] = {}
    for outcome in everything:
        statuses.setdefault(outcome.kind, Counter())[outcome.status or outcome.detail] += 1
    for kind in (*PLAN_KINDS, "long", "health", "probe"):
        if kind in statuses:
            print(
                f"  {kind:9s}: "
                + ", ".join(f"{status} x {count}" for status, count in sorted(statuses[kind].items(), key=str))
            )
    polls = [o for o in everything if o.kind == "health"]
    print(
        f"/health: {len(polls)} polls, {sum(not o.as_expected() for o in polls)} without an ok answer, "
        f"slowest {max((o.seconds for o in polls), default=0):.3f} s"
    )
    problems = []
    if fault is not None:
        for line in fault.lines:
            print(line)
        problems += fault.problems
    lines, judged = judge(everything, mode, fault)
    for line in lines:
        print(line)
    problems += judged
    for problem in problems:
        print(f"FAIL: {problem}")
    print("PASS" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())

"""
Faults under load: the fault scenarios of benchmarks/load_test.py on the fixture model, and the
verdicts they give.
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from spert_mt_plugin.commands.serve import _worker_exit
from tests.conftest import PROJECT_ROOT

LOAD_TEST = PROJECT_ROOT / "benchmarks" / "load_test.py"


def load_test_module():
    spec = importlib.util.spec_from_file_location("load_test", LOAD_TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_load_test(archive: str, *extra: str) -> subprocess.CompletedProcess:
    # Small and without oversized requests (2 MB bodies): the scenarios, not the throughput, are tested.
    command = [
        sys.executable,
        str(LOAD_TEST),
        "--archive",
        archive,
        "--workers",
        "2",
        "--threads",
        "1",
        "--requests",
        "60",
        "--clients",
        "4",
        "--oversized",
        "0",
        "--request-timeout",
        "30",
        "--time-limit",
        "60",
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=150, env=env)


@pytest.mark.slow
def test_a_worker_killed_under_load_costs_at_most_the_requests_it_held(trained_archive):
    result = run_load_test(trained_archive, "--kill-worker")
    assert result.returncode == 0, result.stdout + result.stderr
    held = re.search(r"lost with the killed worker: (\d+) of the (\d+) requests it held", result.stdout)
    assert held and int(held.group(1)) <= int(held.group(2)) <= 1  # sync workers: one request at a time
    assert re.search(r"all 2 workers up and /health answering after [\d.]+ s", result.stdout)
    assert result.stdout.rstrip().endswith("PASS")


@pytest.mark.slow
def test_sigterm_lets_the_requests_in_flight_finish_then_the_port_refuses(trained_archive):
    result = run_load_test(trained_archive, "--terminate", "--long-sentences", "1000")
    assert result.returncode == 0, result.stdout + result.stderr
    in_flight = re.search(r"in flight at SIGTERM: (\d+) requests, (\d+) answered as expected", result.stdout)
    assert in_flight and int(in_flight.group(1)) >= 2 and in_flight.group(1) == in_flight.group(2)
    assert "  long     : 200 x 2" in result.stdout
    assert re.search(r"the master exited [\d.]+ s after SIGTERM with status 0", result.stdout)
    assert "after the exit, a new connection: ConnectionRefusedError" in result.stdout


def outcome(module, kind, port, error=None, status=200, started=1.0):
    return module.Outcome(
        kind,
        started,
        port=port,
        ended=started + 1,
        status=None if error else status,
        is_json=not error,
        error=error,
        detail="ConnectionResetError" if error else "",
    )


class FiredFault:
    def __init__(self, held_outcomes, fired=1.5):
        self.fired, self._held = fired, held_outcomes

    def held_outcomes(self):
        return self._held, 0


def test_the_verdicts_fail_a_hung_request_and_a_loss_the_killed_worker_did_not_cause():
    module = load_test_module()
    cut = outcome(module, "good", 1001, error="dropped")
    answered = outcome(module, "good", 1002)
    health = outcome(module, "health", 1003)
    health.health_ok = True
    _, problems = module.judge([cut, answered, health], "kill-worker", FiredFault([cut]))
    assert problems == []
    other = outcome(module, "malformed", 1004, error="dropped")
    _, problems = module.judge([cut, answered, health, other], "kill-worker", FiredFault([cut]))
    assert problems == ["1 requests lost that the killed worker did not hold (malformed: ConnectionResetError)"]
    hung = outcome(module, "good", 1005, error="hung")
    _, problems = module.judge([cut, answered, health, hung], "kill-worker", FiredFault([cut]))
    assert problems[0].startswith("1 requests hung")
    # On SIGTERM, what the workers held must be answered; later requests may fail, but not hang.
    long = outcome(module, "long", 1006, error="dropped")
    late = outcome(module, "good", 1007, error="refused", started=2.0)
    _, problems = module.judge([long, late, health], "terminate", FiredFault([long]))
    assert problems == ["1 requests in flight at SIGTERM not answered as expected: long: dropped"]
    long = outcome(module, "long", 1006)
    _, problems = module.judge([long, late, health], "terminate", FiredFault([long]))
    assert problems == []


class FakeWorker:
    pid = -1


def test_worker_exit_hook_leaves_the_master_and_failed_boots_alone():
    # Called in the master (another pid) it returns; so it does in a worker leaving with an error
    # status, which gunicorn's master reads (a boot error stops the service).
    _worker_exit(None, FakeWorker())
    worker = FakeWorker()
    worker.pid = os.getpid()
    try:
        sys.exit(3)
    except SystemExit:
        _worker_exit(None, worker)

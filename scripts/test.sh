#!/usr/bin/env bash
# The README's test command: set up .venv (if needed), check formatting and lint (ruff, configured in
# pyproject.toml; fix with `.venv/bin/ruff format . && .venv/bin/ruff check --fix .`) and run the
# test suite. Real-data tests read ../shared/data (or SPERT_TEST_DATA_DIR) and skip when it is absent.
# The suite runs on two pytest-xdist workers (most of its time is `allennlp` subprocesses importing
# torch and allennlp, one core each); tests that must share a training or must not overlap (Ray)
# carry an xdist_group mark. Extra arguments go to pytest: `-n 0` runs in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/ruff format --check --quiet . || { echo "ruff format: the files above need formatting" >&2; exit 1; }
.venv/bin/ruff check --quiet .
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup "$@"

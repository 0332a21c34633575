#!/usr/bin/env bash
# The README's test command: set up .venv (if needed), check formatting and lint (ruff, configured in
# pyproject.toml; fix with `.venv/bin/ruff format . && .venv/bin/ruff check --fix .`) and run the
# test suite. Real-data tests read ../shared/data (or SPERT_TEST_DATA_DIR) and skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
.venv/bin/ruff format --check --quiet . || { echo "ruff format: the files above need formatting" >&2; exit 1; }
.venv/bin/ruff check --quiet .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

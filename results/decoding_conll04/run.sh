#!/usr/bin/env bash
# Flat or nested entity decoding of one trained archive, decoding only (no retraining): CoNLL04 dev
# and test with `model.entity_decoding` nested (every span the head accepts, as before the option
# existed) and flat (the best-scoring non-overlapping entities, no relation between overlapping
# spans), plus the "Palo Alto" sentence of issue 24.
#
# Usage: bash results/decoding_conll04/run.sh DEV_ARCHIVE TEST_ARCHIVE   (project root, SPERT_DATA_DIR set)
# DEV_ARCHIVE trained on train only (conll04_dev.jsonnet), TEST_ARCHIVE on train+dev (conll04.jsonnet).
set -euo pipefail
DEV_ARCHIVE=$1
ARCHIVE=$2
OUT=results/decoding_conll04
A=.venv/bin/allennlp
for split in dev test; do
  archive=$ARCHIVE
  [ $split = dev ] && archive=$DEV_ARCHIVE
  for decoding in nested flat; do
    $A evaluate "$archive" "$SPERT_DATA_DIR/conll04/conll04_$split.json" --batch-size 8 \
      --overrides "{\"model.entity_decoding\": \"$decoding\"}" \
      --output-file "$OUT/${split}_$decoding.json" > "$OUT/${split}_$decoding.log" 2>&1 || { tail "$OUT/${split}_$decoding.log"; exit 1; }
    rm "$OUT/${split}_$decoding.log"
  done
done
echo '{"tokens": ["Later", "he", "lived", "in", "Palo", "Alto", ",", "California", "."]}' > /tmp/palo_alto.jsonl
for decoding in nested flat; do
  $A predict "$ARCHIVE" /tmp/palo_alto.jsonl --silent --overrides "{\"model.entity_decoding\": \"$decoding\"}" \
    --predictor-args '{"precision": "float32"}' --output-file "$OUT/palo_alto_$decoding.jsonl" >/dev/null 2>&1
done
.venv/bin/python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| split | decoding | NER P | NER R | NER F1 | RE P | RE R | RE F1 | strict RE F1 |")
print("|---|---|---|---|---|---|---|---|---|")
for split in ("dev", "test"):
    for decoding in ("nested", "flat"):
        m = json.load(open(f"{out}/{split}_{decoding}.json"))
        cells = [m[k] * 100 for k in ("ner_precision", "ner_recall", "ner_f1", "rel_precision", "rel_recall", "rel_f1", "rel_strict_f1")]
        print(f"| {split} | {decoding} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
for decoding in ("nested", "flat"):
    result = json.loads(open(f"{out}/palo_alto_{decoding}.jsonl").readline())
    entities = result["entities"]
    relations = [f"{entities[r['head']]['text']} -{r['type']}-> {entities[r['tail']]['text']}" for r in result["relations"]]
    print(f"{decoding}: entities {[(e['text'], e['type'], round(e['score'], 2)) for e in entities]}; relations {relations}")
PY

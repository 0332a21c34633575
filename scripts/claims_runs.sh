#!/usr/bin/env bash
# The runs behind "Does SpERT.MT beat SpERT here?" (docs/results.md): CoNLL04 Table 1 at the paper's ten seeds
# (13-22) for SpERT.MT and the SpERT baseline, the paper's Figure 3 on CoNLL04 (20, 60 and 200
# negative spans and pairs, seeds 13 and 14; the 120 points are Table 1's seeds 13 and 14) and the
# train -> dev learning curves of both models and of SpERT's heads trained as SpERT.MT (seed 13).
# 20 epochs, bundled encoder, one thread a run, two queues side by side (SpERT.MT in one, the
# baseline in the other, so that paired seeds finish together). After each run its test-set
# predictions are written next to its metrics (test_predictions.jsonl, one SpERT JSON object per
# test sentence, in file order): the paired significance test of `spert-experiments` reads them.
#
# Usage: bash scripts/claims_runs.sh [table1|figure3|curves ...]   (default: all, in that order)
# Interrupt it at any time; run it again and finished runs are skipped, unfinished ones resumed.
# Runs go to experiments/claims/<config>/seed_N, logs to experiments/logs/claims_*.log.
# To keep the code of every run the same, run it from a worktree of one commit:
#   git worktree add /work/claims <commit> && cd /work/claims && PYTHONPATH=$PWD bash scripts/claims_runs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export SPERT_DATA_DIR=${SPERT_DATA_DIR:-$ROOT/../shared/data} OMP_NUM_THREADS=1
[ -d "$SPERT_DATA_DIR/conll04" ] || { echo "no data in $SPERT_DATA_DIR: run bash scripts/get_data.sh first" >&2; exit 1; }
A=${ALLENNLP:-.venv/bin/allennlp}
OUT=experiments/claims
TEST=$SPERT_DATA_DIR/conll04/conll04_test.json
mkdir -p experiments/logs
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(table1 figure3 curves)

# One run: config stem, seed. Trains (or resumes, or skips) it, then predicts the test set once.
run() {
  local config=$1 seed=$2 dir=$OUT/$1/seed_$2 log=experiments/logs/claims_$1.log
  echo "$(date -u +%FT%TZ) $config seed $seed: $dir (log $log)"
  "$A" spert-experiments "training_configs/$config.jsonnet" --seeds "$seed" -o "$OUT" >>"$log" 2>&1 \
    || { echo "$config seed $seed failed: see $log" >&2; return 1; }
  if [ ! -s "$dir/test_predictions.jsonl" ]; then
    "$A" predict "$dir/model.tar.gz" "$TEST" --use-dataset-reader --batch-size 8 --silent \
      --output-file "$dir/test_predictions.jsonl.tmp" >>"$log" 2>&1 \
      && mv "$dir/test_predictions.jsonl.tmp" "$dir/test_predictions.jsonl" \
      || { echo "$config seed $seed: prediction failed, see $log" >&2; return 1; }
  fi
}

queue() {
  local suffix=$1 part seed n
  for part in "${PARTS[@]}"; do
    case $part in
      table1) for seed in 13 14 15 16 17 18 19 20 21 22; do run "conll04$suffix" $seed; done ;;
      figure3) for n in 20 200 60; do for seed in 13 14; do run "conll04${suffix}_neg$n" $seed; done; done ;;
      curves)
        run "conll04_dev$suffix" 13
        # SpERT's heads trained as SpERT.MT trains: what the training setting alone adds.
        [ -z "$suffix" ] || run conll04_dev_spert_heads 13 ;;
      *) echo "unknown part '$part' (table1, figure3 or curves)" >&2; return 2 ;;
    esac
  done
}

queue "" &
pid_a=$!
queue "_spert" &
pid_b=$!
status=0
wait $pid_a || status=1
wait $pid_b || status=1
exit $status

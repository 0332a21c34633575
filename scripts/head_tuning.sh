#!/usr/bin/env bash
# The dev-set study behind the heads' settings (docs/results.md, "Why the heads have their own
# learning rate"; docs/head_tuning.md): short SpERT.MT runs on CoNLL04 train -> dev (never test),
# one setting changed per row.
# Usage: bash scripts/head_tuning.sh [EPOCHS] [ROW ...]   (default 3 epochs, every row)
# Runs two at a time with one thread each; results: experiments/head_tuning/ROW/metrics.json,
# summary: experiments/head_tuning/summary.md. Finished rows are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-3}
shift || true
OUT=experiments/head_tuning
mkdir -p "$OUT"
# Rows run with the settings of their day: mean reduction, head_lr 1e-3 unless the row says otherwise.
declare -A ROWS=(
  [head_lr_1e-3]='{"model.loss_reduction": "mean"}'
  [head_lr_5e-5_literal]='{"model.loss_reduction": "mean", "trainer.optimizer.head_lr": 5e-5}'
  [head_lr_3e-4]='{"model.loss_reduction": "mean", "trainer.optimizer.head_lr": 3e-4}'
  [head_lr_3e-3]='{"model.loss_reduction": "mean", "trainer.optimizer.head_lr": 3e-3}'
  [head_lr_1e-2]='{"model.loss_reduction": "mean", "trainer.optimizer.head_lr": 1e-2}'
  [class_bias]='{"model.loss_reduction": "mean", "model.head.class_bias": true}'
  [init_std_0.1]='{"model.loss_reduction": "mean", "model.head.init_std": 0.1}'
  [loss_sum]='{"model.loss_reduction": "sum"}'
  [no_warmup]='{"model.loss_reduction": "mean", "trainer.learning_rate_scheduler.warmup_fraction": 0.0}'
  [torch_adamw_bias_correction]='{"model.loss_reduction": "mean", "trainer.optimizer.correct_bias": true}'
  [fused_optimizer_check]='{"model.loss_reduction": "mean", "trainer.optimizer.fused": true}'
  [loss_sum_head_lr_5e-5]='{"model.loss_reduction": "sum", "trainer.optimizer.head_lr": 5e-5}'
  [loss_sum_head_lr_3e-3]='{"model.loss_reduction": "sum", "trainer.optimizer.head_lr": 3e-3}'
  [spert_baseline]='BASELINE'
)
ORDER=(head_lr_1e-3 head_lr_5e-5_literal head_lr_3e-4 head_lr_3e-3 head_lr_1e-2 spert_baseline class_bias loss_sum init_std_0.1 no_warmup torch_adamw_bias_correction fused_optimizer_check loss_sum_head_lr_5e-5 loss_sum_head_lr_3e-3)
[ $# -gt 0 ] && ORDER=("$@")
run_row() {
  local row=$1 config=training_configs/conll04_dev.jsonnet overrides=${ROWS[$1]}
  [ -f "$OUT/$row/metrics.json" ] && return 0
  if [ "$overrides" = BASELINE ]; then config=training_configs/conll04_dev_spert.jsonnet; overrides='{}'; fi
  rm -rf "$OUT/$row"
  local cmd=(.venv/bin/allennlp train "$config" -s "$OUT/$row" --include-package spert_mt_plugin -o "$overrides")
  echo "SPERT_EPOCHS=$EPOCHS ${cmd[*]@Q}" >"$OUT/$row.command"
  OMP_NUM_THREADS=1 SPERT_EPOCHS=$EPOCHS "${cmd[@]}" >"$OUT/$row.log" 2>&1 || echo "row $row failed: $OUT/$row.log"
}
export -f run_row
i=0
for row in "${ORDER[@]}"; do
  run_row "$row" &
  i=$((i + 1))
  if [ $((i % 2)) -eq 0 ]; then wait; fi
done
wait
{
  echo "| row | override | dev NER F1 | dev RE F1 | dev RE strict F1 |"
  echo "|---|---|---|---|---|"
  for row in "${ORDER[@]}"; do
    m=$OUT/$row/metrics.json
    [ -f "$m" ] || continue
    .venv/bin/python -c "import json,sys; m=json.load(open('$m')); print('| $row | \`${ROWS[$row]}\` | %.2f | %.2f | %.2f |' % (100*m['best_validation_ner_f1'], 100*m['best_validation_rel_f1'], 100*m['best_validation_rel_strict_f1']))"
  done
} >"$OUT/summary.md"
cat "$OUT/summary.md"

#!/usr/bin/env bash
# Tables and figures of "Does SpERT.MT beat SpERT here?" (docs/results.md) from the runs of
# scripts/claims_runs.sh (experiments/claims, or RUNS=folder), kept in results/ (configs, metrics and
# test predictions; no weights):
#   results/table_conll04/table1.md   CoNLL04 Table 1, mean ± std and the paired comparison (table1_flat.md:
#                                     flat decoding; paired_differences.png: the per-seed differences of both)
#   results/figure3_conll04/          Figure 3 (negatives): neg*.md comparisons, figure3.png and .md
#   results/curves_conll04/           train -> dev learning curves and how fast each model learns
# Only finished runs are used: SEEDS (default: every seed of 13-22 that both models finished).
# Usage: bash scripts/claims_tables.sh [table1|figure3|curves ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-experiments/claims}
A=${ALLENNLP:-.venv/bin/allennlp}
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(table1 figure3 curves)
FIGURE3_SEEDS="13 14"

# The seeds among $2.. whose runs of both configs $1 and $1_spert' finished (with test figures).
finished_pairs() {
  local config=$1 seed
  shift
  for seed in "$@"; do
    if grep -qs test_rel_f1 "$RUNS/$config/seed_$seed/metrics.json" \
      && grep -qs test_rel_f1 "$RUNS/${config/conll04/conll04_spert}/seed_$seed/metrics.json"; then
      echo -n "$seed "
    fi
  done
}

for part in "${PARTS[@]}"; do
  case $part in
    table1)
      seeds=${SEEDS:-$(finished_pairs conll04 13 14 15 16 17 18 19 20 21 22)}
      [ -n "$seeds" ] || { echo "table1: no finished pair of runs in $RUNS" >&2; continue; }
      # shellcheck disable=SC2086
      "$A" spert-experiments training_configs/conll04{,_spert}.jsonnet --seeds $seeds -o "$RUNS" \
        --export results/table_conll04 --results table1 --table-only >/dev/null
      # The same runs decoded flat (from their kept predictions), and both tables' per-seed paired differences.
      # shellcheck disable=SC2086
      "$A" spert-experiments training_configs/conll04{,_spert}.jsonnet --seeds $seeds -o results/table_conll04 \
        --results table1_flat --table-only --decoding flat >/dev/null
      "$A" spert-plot --differences results/table_conll04/table1{,_flat}.json --labels "nested decoding" "flat decoding" \
        --claim NER 1.8 --claim RE 2.1 -o results/table_conll04/paired_differences.png \
        --title "CoNLL04 test, SpERT.MT − SpERT baseline, seeds ${seeds% } (red: the paper's gain)" \
        | tee results/table_conll04/paired_differences.txt
      echo "results/table_conll04/table1.md, table1_flat.md, paired_differences.png (seeds $seeds)" ;;
    figure3)
      sweep_mt=() sweep_spert=() partial=""
      for n in 20 60 200; do
        # shellcheck disable=SC2086
        seeds=$(finished_pairs "conll04_neg$n" $FIGURE3_SEEDS)
        [ "${seeds% }" = "$FIGURE3_SEEDS" ] || partial=", partial: runs per point in figure3.md"
        [ -n "$seeds" ] || { echo "figure3: no finished pair of runs with $n negatives" >&2; continue; }
        # shellcheck disable=SC2086
        "$A" spert-experiments training_configs/conll04{,_spert}_neg$n.jsonnet --seeds $seeds -o "$RUNS" \
          --export results/figure3_conll04 --results "neg$n" --table-only >/dev/null
        for seed in $seeds; do
          sweep_mt+=("results/figure3_conll04/conll04_neg$n/seed_$seed")
          sweep_spert+=("results/figure3_conll04/conll04_spert_neg$n/seed_$seed")
        done
      done
      # The 120 points are Table 1's runs of the same seeds.
      for seed in $FIGURE3_SEEDS; do
        if [ -f "results/table_conll04/conll04/seed_$seed/metrics.json" ] \
          && [ -f "results/table_conll04/conll04_spert/seed_$seed/metrics.json" ]; then
          sweep_mt+=("results/table_conll04/conll04/seed_$seed")
          sweep_spert+=("results/table_conll04/conll04_spert/seed_$seed")
        fi
      done
      [ ${#sweep_mt[@]} -gt 0 ] || { echo "figure3: no runs" >&2; continue; }
      "$A" spert-sweep --series SpERT.MT "${sweep_mt[@]}" --series "SpERT baseline" "${sweep_spert[@]}" \
        --parameter model.negative_entities --parameter-label "negative spans = negative pairs per sentence" \
        --title "CoNLL04 test, bundled MiniLM-L6, 20 epochs, seeds ${FIGURE3_SEEDS// /-}$partial" \
        -o results/figure3_conll04/figure3.png ;;
    curves)
      for config in conll04_dev conll04_dev_spert conll04_dev_spert_heads; do
        grep -qs test_rel_f1 "$RUNS/$config/seed_13/metrics.json" || { echo "curves: $config seed 13 not finished" >&2; continue 2; }
      done
      "$A" spert-experiments training_configs/conll04_dev{,_spert,_spert_heads}.jsonnet --seeds 13 -o "$RUNS" \
        --export results/curves_conll04 --table-only >/dev/null
      C=results/curves_conll04
      "$A" spert-plot $C/conll04_dev/seed_13 $C/conll04_dev_spert/seed_13 $C/conll04_dev_spert_heads/seed_13 \
        --labels SpERT.MT "SpERT baseline" "SpERT heads, SpERT.MT training" \
        --title "CoNLL04 train → dev, bundled MiniLM-L6, seed 13" --reference "SpERT baseline" \
        -o $C/learning_curves.png | tee $C/learning_speed.txt ;;
    *) echo "unknown part '$part' (table1, figure3 or curves)" >&2; exit 2 ;;
  esac
done

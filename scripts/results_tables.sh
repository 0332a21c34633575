#!/usr/bin/env bash
# Re-runs every training behind the "Results" tables (docs/results.md) on a 2-core CPU with the bundled
# encoder, 20 epochs: Table 1 (SpERT.MT and the SpERT baseline: CoNLL04 seeds 13-15, SciERC seeds
# 13-15, ADE folds 0-1) and Table 2 (the SciERC ablations, seed 13). The kept CoNLL04 table is the
# 10-seed study of scripts/claims_runs.sh; the conll04 part here is a shorter 3-seed table of it. Two queues run side by side
# with one thread each; on this project's 2-core CPU a SciERC run takes about 52 minutes that way,
# an ADE fold about 110 (no validation split, but twice SciERC's training sentences), a CoNLL04
# run about half an hour.
#
# Usage: bash scripts/results_tables.sh [conll04|scierc|ade ...]   (default: all three)
# Interrupt it at any time; run it again and `spert-experiments` resumes each unfinished run from its
# last checkpoint and skips finished ones. Tables: experiments/table1_conll04/results.md,
# experiments/table_scierc/table1.md and table2.md, experiments/table_ade/results.md (and .json);
# logs in experiments/logs/; the SciERC dev curves in experiments/table_scierc/learning_curves.png.
# Each table is also exported (configs and metrics of its runs, no weights) to results/<table>/,
# the folder the figures of docs/results.md are kept in.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPERT_DATA_DIR=${SPERT_DATA_DIR:-../shared/data} OMP_NUM_THREADS=1
[ -d "$SPERT_DATA_DIR/conll04" ] || { echo "no data in $SPERT_DATA_DIR: run bash scripts/get_data.sh first" >&2; exit 1; }
TABLES=("$@")
[ ${#TABLES[@]} -gt 0 ] || TABLES=(conll04 scierc ade)
A=.venv/bin/allennlp
mkdir -p experiments/logs

# One call of spert-experiments per (config, seeds/folds, output); prints where its log is.
run() {
  local name=$1
  shift
  echo "  $name: experiments/logs/$name.log"
  "$A" spert-experiments "$@" >>"experiments/logs/$name.log" 2>&1 || { echo "$name failed: experiments/logs/$name.log" >&2; return 1; }
}

# Two queues of about equal CPU time; each entry: name, then spert-experiments arguments.
queue_a=()
queue_b=()
for table in "${TABLES[@]}"; do
  case $table in
    conll04)
      queue_a+=("conll04|training_configs/conll04.jsonnet --seeds 13 14 15 -o experiments/table1_conll04")
      queue_b+=("conll04_spert|training_configs/conll04_spert.jsonnet --seeds 13 14 15 -o experiments/table1_conll04") ;;
    scierc)
      queue_a+=("scierc|training_configs/scierc.jsonnet --seeds 13 14 15 -o experiments/table_scierc"
                "scierc_no_mtl|training_configs/scierc_no_mtl.jsonnet --seeds 13 -o experiments/table_scierc")
      queue_b+=("scierc_spert|training_configs/scierc_spert.jsonnet --seeds 13 14 15 -o experiments/table_scierc"
                "scierc_no_eil|training_configs/scierc_no_eil.jsonnet --seeds 13 -o experiments/table_scierc"
                "scierc_no_entity_logits|training_configs/scierc_no_entity_logits.jsonnet --seeds 13 -o experiments/table_scierc") ;;
    ade)
      queue_a+=("ade|training_configs/ade.jsonnet --folds 0 1 -o experiments/table_ade")
      queue_b+=("ade_spert|training_configs/ade_spert.jsonnet --folds 0 1 -o experiments/table_ade") ;;
    *) echo "unknown table '$table' (conll04, scierc or ade)" >&2; exit 2 ;;
  esac
done

drain() {
  local entry
  for entry in "$@"; do
    # shellcheck disable=SC2086  # the arguments are split on purpose
    run "${entry%%|*}" ${entry#*|}
  done
}
echo "training (two queues side by side):"
drain "${queue_a[@]}" &
pid_a=$!
drain "${queue_b[@]}" &
pid_b=$!
status=0
wait $pid_a || status=1
wait $pid_b || status=1
[ $status -eq 0 ] || exit 1

# Every run has finished: one call per table names all its runs and only writes the joint table.
write_table() {
  local out=$1
  shift
  "$A" spert-experiments "$@" -o "experiments/$out" --export "results/$out" --table-only >/dev/null 2>>experiments/logs/tables.log \
    || { echo "  no table for $*: see the end of experiments/logs/tables.log" >&2; return 1; }
}
echo "tables:"
for table in "${TABLES[@]}"; do
  case $table in
    conll04) write_table table1_conll04 training_configs/conll04{,_spert}.jsonnet --seeds 13 14 15 \
               && echo "  experiments/table1_conll04/results.md" ;;
    scierc)
      write_table table_scierc training_configs/scierc{,_spert}.jsonnet --seeds 13 14 15 --results table1 \
        && echo "  experiments/table_scierc/table1.md"
      write_table table_scierc training_configs/scierc{,_spert,_no_mtl,_no_eil,_no_entity_logits}.jsonnet --seeds 13 \
        --results table2 && echo "  experiments/table_scierc/table2.md"
      S=experiments/table_scierc
      "$A" spert-plot $S/scierc/seed_13 $S/scierc_spert/seed_13 $S/scierc_no_mtl/seed_13 $S/scierc_no_eil/seed_13 \
        $S/scierc_no_entity_logits/seed_13 --labels SpERT.MT "SpERT baseline" "−MTL" "−EIL" "−Entity Logits" \
        --title "SciERC train → dev, bundled MiniLM-L6, seed 13" --from-epoch 3 -o $S/learning_curves.png ;;
    ade) write_table table_ade training_configs/ade{,_spert}.jsonnet --folds 0 1 \
           && echo "  experiments/table_ade/results.md" ;;
  esac
done

#!/usr/bin/env bash
# Gets CoNLL04, SciERC and ADE (SpERT JSON format) into a data folder (default: ./data).
#
#   bash scripts/get_data.sh                 download from SpERT's public dataset store (as SpERT's
#                                            own scripts/fetch_datasets.sh does) into ./data
#   bash scripts/get_data.sh --dygie         also SciERC in the DyGIE format (UW's sciERC_processed)
#   bash scripts/get_data.sh --from DIR      use an existing copy (e.g. ../shared/data): symlink it
#   bash scripts/get_data.sh --to DIR ...    another target folder
#
# The configs read the folder from SPERT_DATA_DIR (default: data). Data never goes into git.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=data
FROM=""
DYGIE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="$2"; shift 2 ;;
    --to) TARGET="$2"; shift 2 ;;
    --dygie) DYGIE=1; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

if [ -n "$FROM" ]; then
  [ -f "$FROM/conll04/conll04_types.json" ] || { echo "$FROM has no conll04/conll04_types.json" >&2; exit 1; }
  FROM_ABS=$(cd "$FROM" && pwd)
  if [ -e "$TARGET" ] && [ ! -L "$TARGET" ]; then echo "$TARGET exists and is not a link; remove it first" >&2; exit 1; fi
  ln -sfn "$FROM_ABS" "$TARGET"
  echo "$TARGET -> $FROM_ABS"
  exit 0
fi

BASE=http://lavis.cs.hs-rm.de/storage/spert/public/datasets
fetch() {  # url file
  if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$2" "$1"; else wget -q -O "$2" "$1"; fi
}
mkdir -p "$TARGET/conll04" "$TARGET/scierc" "$TARGET/ade"
for split in train dev test train_dev types; do
  fetch "$BASE/conll04/conll04_$split.json" "$TARGET/conll04/conll04_$split.json"
  fetch "$BASE/scierc/scierc_$split.json" "$TARGET/scierc/scierc_$split.json"
done
fetch "$BASE/ade/ade_types.json" "$TARGET/ade/ade_types.json"
fetch "$BASE/ade/ade_full.json" "$TARGET/ade/ade_full.json"
for fold in 0 1 2 3 4 5 6 7 8 9; do
  for split in train test; do
    fetch "$BASE/ade/ade_split_${fold}_$split.json" "$TARGET/ade/ade_split_${fold}_$split.json"
  done
done
if [ "$DYGIE" = 1 ]; then
  tmp=$(mktemp -d)
  fetch http://nlp.cs.washington.edu/sciIE/data/sciERC_processed.tar.gz "$tmp/scierc.tar.gz"
  tar -xzf "$tmp/scierc.tar.gz" -C "$tmp"
  mkdir -p "$TARGET/scierc_dygie"
  cp "$tmp"/processed_data/json/{train,dev,test}.json "$TARGET/scierc_dygie/"
  rm -rf "$tmp"
fi
echo "datasets in $TARGET"

#!/usr/bin/env bash
# One training over several machines (AllenNLP's `distributed` section, torch.distributed): run this
# on every node with the same CONFIG and the node's own serialization folder (docs/scaling.md).
#
#   bash scripts/train_nodes.sh CONFIG SERIALIZATION_DIR [allennlp train options, e.g. --recover]
#
# The node's place in the job comes from torchrun's environment variables, else SLURM's:
#   NNODES          number of nodes                        (SLURM_NNODES)
#   NODE_RANK       this node's rank, 0 on the primary     (SLURM_NODEID)
#   MASTER_ADDR     the primary node's address             (first host of SLURM_JOB_NODELIST)
#   MASTER_PORT     a free TCP port on the primary (29500)
#   SPERT_DEVICES   this node's workers as a JSON list of devices: [0, 1, 2, 3] for four GPUs,
#                   [-1, -1] for two CPU workers (gloo)    (default [-1]: one CPU worker)
#   SPERT_TRAIN_OVERRIDES  other overrides of the config, as JSON (merged with the distributed section)
#
# Every node's first worker writes checkpoints, metrics and model.tar.gz to its SERIALIZATION_DIR
# (the weights are the same on every node): give each node a folder of its own, on its local disk
# or, on a shared file system, a path that differs by node (e.g. runs/conll04/node$NODE_RANK).
# The test set is not evaluated during distributed training: run `allennlp evaluate` on the archive.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash scripts/train_nodes.sh CONFIG SERIALIZATION_DIR [allennlp train options]" >&2
  exit 2
fi
config=$1 serialization_dir=$2
shift 2
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

nodes=${NNODES:-${SLURM_NNODES:-}}
node_rank=${NODE_RANK:-${SLURM_NODEID:-}}
address=${MASTER_ADDR:-}
if [ -z "$address" ] && [ -n "${SLURM_JOB_NODELIST:-}" ]; then
  address=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
fi
for name in nodes node_rank address; do
  if [ -z "${!name}" ]; then
    echo "train_nodes.sh: set NNODES, NODE_RANK and MASTER_ADDR (or run under SLURM): $name is unknown" >&2
    exit 2
  fi
done

overrides=$(NODES=$nodes ADDRESS=$address PORT=${MASTER_PORT:-29500} DEVICES=${SPERT_DEVICES:-[-1]} \
  OTHER=${SPERT_TRAIN_OVERRIDES:-{\}} "$PYTHON" -c '
import json, os, sys
raw_devices = os.environ["DEVICES"]
try:
    devices = json.loads(raw_devices)
    other = json.loads(os.environ["OTHER"])
    nodes, port = int(os.environ["NODES"]), int(os.environ["PORT"])
except ValueError as error:
    sys.exit(f"train_nodes.sh: NNODES and MASTER_PORT must be integers, SPERT_DEVICES a JSON list, "
             f"SPERT_TRAIN_OVERRIDES a JSON object: {error}")
if not isinstance(devices, list) or not devices or not all(isinstance(d, int) for d in devices):
    sys.exit(f"train_nodes.sh: SPERT_DEVICES must be a JSON list of device numbers, got {raw_devices}")
distributed = {
    "cuda_devices": devices,
    "num_nodes": nodes,
    "primary_address": os.environ["ADDRESS"],
    "primary_port": port,
    # a batch without entity pairs leaves the relation head without gradient
    "ddp_accelerator": {"type": "torch", "find_unused_parameters": True},
}
# AllenNLP evaluates the test set on the primary worker alone while the metrics wait for all workers.
print(json.dumps({"evaluate_on_test": False, **other, "distributed": distributed}))
')
echo "node $node_rank of $nodes, primary $address:${MASTER_PORT:-29500}, workers ${SPERT_DEVICES:-[-1]}" >&2
exec "$PYTHON" -m allennlp train "$config" -s "$serialization_dir" --node-rank "$node_rank" -o "$overrides" "$@"

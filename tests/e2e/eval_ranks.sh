#!/usr/bin/env bash
# Exact metrics over ranks: `avf evaluate` on 2 ranks gives the CCC of 1 rank to 1e-9 (statistics
# are merged exactly, not averaged per rank).
# usage: eval_ranks.sh AVF DATA_DIR CHECKPOINT WORK_DIR MPIRUN
set -euo pipefail
avf=$1 data=$2 ckpt=$3 work=$4 mpirun=$5
rm -rf "$work"
"$avf" evaluate --audio "$ckpt" --data.shards "$data/shards" --output "$work/one" --log.progress off
"$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2 \
  "$avf" evaluate --audio "$ckpt" --data.shards "$data/shards" --output "$work/two" --log.progress off
/usr/bin/python3 - "$work/one/evaluation.json" "$work/two/evaluation.json" <<'PY'
import json, sys
one, two = (json.load(open(p))["models"]["Audio"] for p in sys.argv[1:3])
for kind in ("raw", "postprocessed"):
    for target, value in one[kind].items():
        print(f"{kind} {target}: 1 rank {value:.12f}, 2 ranks {two[kind][target]:.12f}")
        assert abs(value - two[kind][target]) <= 1e-9, (kind, target)
PY

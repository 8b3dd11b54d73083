#!/usr/bin/env bash
# Exact metrics over ranks: `avf evaluate` on 2 ranks gives the CCC of 1 rank to 1e-9 (statistics
# are merged exactly, not averaged per rank). Each rank's stream of each partition reports its
# frames/s and time split in evaluation.json and in the log.
# usage: eval_ranks.sh AVF DATA_DIR CHECKPOINT WORK_DIR MPIRUN
set -euo pipefail
avf=$1 data=$2 ckpt=$3 work=$4 mpirun=$5
rm -rf "$work"
"$avf" evaluate --audio "$ckpt" --data.shards "$data/shards" --output "$work/one" --log.progress off
"$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2 \
  "$avf" evaluate --audio "$ckpt" --data.shards "$data/shards" --output "$work/two" --log.progress off 2>&1 |
  tee "$work/two.log"
for part in dev train; do
  grep -qE "evaluate Audio on '$part': rank 1: [0-9.]+ frames/s \([0-9]+ frames of [0-9]+ videos in .*data .*forward .*rest" \
    "$work/two.log" || { echo "FAIL: no frames/s of rank 1 on '$part' in the log" >&2; exit 1; }
done
/usr/bin/python3 - "$work/one/evaluation.json" "$work/two/evaluation.json" <<'PY'
import json, sys
one, two = (json.load(open(p))["models"]["Audio"] for p in sys.argv[1:3])
for kind in ("raw", "postprocessed"):
    for target, value in one[kind].items():
        print(f"{kind} {target}: 1 rank {value:.12f}, 2 ranks {two[kind][target]:.12f}")
        assert abs(value - two[kind][target]) <= 1e-9, (kind, target)
for part in ("dev", "train"):
    ranks = [one["throughput"][part], two["throughput"][part]]
    for n, rows in enumerate(ranks, 1):
        print(f"{part}, {n} rank(s):", [(r["rank"], round(r["frames_per_s"]), r["frames"]) for r in rows])
        assert [r["rank"] for r in rows] == list(range(n)), rows
        for r in rows:
            assert r["frames"] > 0 and r["frames_per_s"] > 0 and r["forward_s"] > 0, r
            assert abs(r["data_s"] + r["forward_s"] + r["rest_s"] - r["seconds"]) < 1e-9, r
            assert abs(r["frames_per_s"] - r["frames"] / r["seconds"]) < 1e-6 * r["frames_per_s"], r
    assert sum(r["frames"] for r in ranks[0]) == sum(r["frames"] for r in ranks[1]), "ranks split the frames"
PY

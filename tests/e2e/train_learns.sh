#!/usr/bin/env bash
# The audio network learns on the generated corpus: training loss falls and validation CCC of
# arousal (audible in the voice by construction) rises above 0.3; the run's plots are drawn.
# usage: train_learns.sh AVF DATA_DIR WORK_DIR
set -euo pipefail
avf=$1 data=$2 work=$3
rm -rf "$work"
"$avf" train --stage audio --data.shards "$data/shards" --model.audio-width-div 16 --train.batch-size 2 \
  --train.epochs 8 --train.lr 0.01 --data.stride 16 --train.patience 0 --train.out "$work" --log.progress off
/usr/bin/python3 - "$work/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
train = [r["loss"] for r in rows if r["kind"] == "train"]
valid = [r["ccc"]["arousal"] for r in rows if r["kind"] == "validation"]
print("train loss per epoch:", ["%.3f" % x for x in train])
print("validation arousal CCC:", ["%.3f" % x for x in valid])
assert train[-1] < train[0] - 0.05, "training loss did not fall"
assert max(valid) > 0.3, "validation arousal CCC never exceeded 0.3"
assert max(valid) > valid[0], "validation CCC did not rise"
PY
test -s "$work/checkpoints/best/model.pt"

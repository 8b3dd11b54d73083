#!/usr/bin/env bash
# The audio network learns on the generated corpus: training loss falls and validation CCC of
# arousal (audible in the voice by construction) rises above 0.3; the run's plots are drawn; each
# epoch's record splits the step time into data wait, forward, backward, exposed comm and optimizer.
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
# Each epoch's record splits the training steps' time into its phases.
last = [r for r in rows if r["kind"] == "train"][-1]
phases = ("data_wait_s", "forward_s", "backward_s", "exposed_comm_s", "optimizer_s")
print("last epoch:", {k: round(last[k], 4) for k in phases + ("train_s", "step_s", "samples_per_s", "peak_rss_mib")})
assert abs(sum(last[k] for k in phases) - last["train_s"]) < 1e-6, "phases do not add up to the training time"
assert last["forward_s"] > 0 and last["backward_s"] > 0 and last["optimizer_s"] > 0, "a phase was not timed"
assert last["steps"] > 0 and abs(last["step_s"] * last["steps"] - last["train_s"]) < 1e-6
assert last["samples_per_s"] > 0 and last["peak_rss_mib"] > 10
PY
test -s "$work/checkpoints/best/model.pt"

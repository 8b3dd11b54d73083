#!/usr/bin/env bash
# Preemption-safe resume: a run interrupted by SIGUSR2 at a random moment, then resumed with
# --checkpoint.resume auto, ends with weights bit-identical (sha256) to an uninterrupted run.
# usage: resume_bitexact.sh AVF DATA_DIR WORK_DIR RANKS MPIRUN [TRAIN OPTIONS...]
# (extra options select e.g. the optimizer and the learning-rate schedule under test)
set -euo pipefail
avf=$1 data=$2 work=$3 ranks=$4 mpirun=$5
shift 5
rm -rf "$work"
mkdir -p "$work"
launch=()
[ "$ranks" -gt 1 ] && launch=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np "$ranks")
args=(train --stage visual --data.shards "$data/shards" --model.width 0.0625 --data.crop-size 24
      --train.batch-size $((4 / ranks)) --train.epochs 6 --data.stride 16 --train.lr 0.01 --train.threads 1
      --train.patience 0 --log.progress off "$@")

"${launch[@]}" "$avf" "${args[@]}" --train.out "$work/straight"

# Interrupt at a random moment (the run above takes several seconds), then resume until done.
for attempt in 1 2 3 4 5; do
  rm -rf "$work/resumed"
  "${launch[@]}" "$avf" "${args[@]}" --train.out "$work/resumed" &
  pid=$!
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0.8, 2.5), 2))')"
  # The signal goes to one training process only (for 2 ranks: one rank); all ranks must agree.
  target=$(pgrep -f -n -- "--train.out $work/resumed" || true)
  [ -n "$target" ] && kill -USR2 "$target"
  set +e
  wait "$pid"
  rc=$?
  set -e
  [ "$rc" -eq 3 ] && break
  echo "attempt $attempt: exit code $rc (the run finished before the signal); trying again"
done
[ "$rc" -eq 3 ] || { echo "FAIL: never interrupted"; exit 1; }
# The preempted run saved `last` mid-run with its position in the epoch, and did not finish.
meta="$work/resumed/checkpoints/last/metadata.json"
jq -e '.state_keys | index("batch") != null' "$meta" > /dev/null || { echo "FAIL: last has no batch position"; exit 1; }
done_step=$(jq -s 'map(select(.kind == "done")) | .[0].step' "$work/straight/metrics.jsonl")
saved_step=$(jq .step "$meta")
[ "$saved_step" -lt "$done_step" ] || { echo "FAIL: last is at step $saved_step, not before the end ($done_step)"; exit 1; }
jq -s -e 'map(select(.kind == "done")) | length == 0' "$work/resumed/metrics.jsonl" > /dev/null ||
  { echo "FAIL: the preempted run wrote a done record"; exit 1; }
echo "interrupted at step $saved_step of $done_step; resuming"
"${launch[@]}" "$avf" "${args[@]}" --train.out "$work/resumed" --checkpoint.resume auto
a=$(sha256sum < "$work/straight/checkpoints/last/model.pt")
b=$(sha256sum < "$work/resumed/checkpoints/last/model.pt")
echo "uninterrupted: $a"
echo "resumed:       $b"
[ "$a" = "$b" ] || { echo "FAIL: final weights differ"; exit 1; }
echo ok

#!/usr/bin/env bash
# The preemption protocol in the real trainer (not a copy of its loop): SIGUSR2 while `avf train` runs
# makes it stop at the next step boundary, save `last` there (mid-run, no `done` record) and exit 3;
# `--checkpoint.resume auto` then ends with the weights of an uninterrupted run.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 120
batch-size = 4
patience = 0
INI
"$AVF" train --config "$work/base.ini" --train.out "$work/straight" > "$work/straight.log" 2>&1 ||
  fail "uninterrupted run: $(tail -3 "$work/straight.log")"
total=$(jq -s 'map(select(.kind == "done")) | .[0].step' "$work/straight/metrics.jsonl")
"$AVF" train --config "$work/base.ini" --train.out "$work/preempted" > "$work/preempted.log" 2>&1 &
pid=$!
wait_for 30 "the first validation" grep -q "checkpoints written" "$work/preempted.log"
kill -USR2 $pid
set +e
wait $pid
rc=$?
set -e
[[ $rc == 3 ]] || fail "exit code $rc after SIGUSR2, expected 3: $(tail -3 "$work/preempted.log")"
grep -q "preemption signal received" "$work/preempted.log" || fail "the trainer did not say it was preempted"
step=$(jq .step "$work/preempted/checkpoints/last/metadata.json")
((step > 0 && step < total)) || fail "last is at step $step, expected mid-run (0 < step < $total)"
jq -s -e 'map(select(.kind == "done")) | length == 0' "$work/preempted/metrics.jsonl" > /dev/null ||
  fail "the preempted run wrote a done record"
"$AVF" train --config "$work/base.ini" --train.out "$work/preempted" --checkpoint.resume auto > "$work/resumed.log" 2>&1 ||
  fail "resume: $(tail -3 "$work/resumed.log")"
same_final_weights "$work/preempted" "$work/straight"
echo PASS

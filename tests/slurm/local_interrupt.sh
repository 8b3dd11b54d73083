#!/usr/bin/env bash
# The local backend interrupted (SIGINT, as from Ctrl-C): the running trials checkpoint `last` and
# are recorded as preempted, the sweep exits 3; `resume` continues both from `last` to the end.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 60
patience = 0
INI
cat > "$work/spec.ini" <<INI
[sweep]
name = interrupt
base = $work/base.ini
out = $work/sweep
[grid]
train.batch-size = 2, 3
[resources]
throttle = 2
INI
"$AVF" sweep run "$work/spec.ini" --backend local &
runner=$!
both_running() {
  local t
  for t in "$work"/sweep/trials/*; do
    [[ $(state_of "$t") == running ]] && (($(cat "$t/metrics.jsonl" 2> /dev/null | grep -c validation) >= 3)) || return 1
  done
}
wait_for 60 "both trials running" both_running
kill -INT "$runner"
rc=0
wait "$runner" || rc=$?
((rc == 3)) || fail "an interrupted sweep must exit 3, got $rc"
for t in "$work"/sweep/trials/*; do
  jq -e '.state == "preempted" and .exit_code == 3 and (.reason | test("checkpointed last"))' "$t/status.json" > /dev/null ||
    fail "$t: $(cat "$t/status.json")"
  [[ -f $t/checkpoints/last/model.pt ]] || fail "$t: no last checkpoint"
done
"$AVF" sweep resume "$work/spec.ini" --backend local 2>&1 | tee "$work/resume.txt"
grep -q "2 trials, 2 to run" "$work/resume.txt" || fail "resume must continue both trials"
for t in "$work"/sweep/trials/*; do
  [[ $(state_of "$t") == done ]] || fail "$t not done after resume"
  grep -q "resumed from .*/checkpoints/last" "$t/train.log" || fail "$t did not resume from last"
  (($(grep -c '"kind":"validation"' "$t/metrics.jsonl") >= 60)) || fail "$t did not finish its epochs"
done
echo PASS

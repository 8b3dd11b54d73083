#!/usr/bin/env bash
# The end of training always validates and writes `last`, whatever checkpoint.every is: every 7 steps
# over 48 must still leave `last` at step 48, and every 1000 (more than the run) must still leave
# `last` and `best` with a real metric. Nonsense values are configuration errors (exit 2).
source "$(dirname "$0")/lib.sh"
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 16
batch-size = 4
patience = 0
INI
steps_of() { jq -r .step "$1/metadata.json"; }
for every in 7 1000; do
  "$AVF" train --config "$work/base.ini" --checkpoint.every $every --train.out "$work/every$every" \
    > "$work/every$every.log" 2>&1 || fail "checkpoint.every $every: $(tail -3 "$work/every$every.log")"
  final=$(jq -s -r 'map(select(.kind == "done")) | .[0].step' "$work/every$every/metrics.jsonl")
  [[ $final == 48 ]] || fail "checkpoint.every $every: expected 48 steps, the done record says $final"
  [[ $(steps_of "$work/every$every/checkpoints/last") == 48 ]] ||
    fail "checkpoint.every $every: last is at step $(steps_of "$work/every$every/checkpoints/last"), not 48"
  [[ -d $work/every$every/checkpoints/best ]] || fail "checkpoint.every $every: no best"
  jq -e '.score | numbers' "$work/every$every/checkpoints/best/metadata.json" > /dev/null ||
    fail "checkpoint.every $every: best has no metric"
  grep -q "best mean = nan" "$work/every$every.log" && fail "checkpoint.every $every: the run never validated"
  jq -s -e 'map(select(.kind == "validation")) | .[-1].step == 48' "$work/every$every/metrics.jsonl" > /dev/null ||
    fail "checkpoint.every $every: the last validation is not at the end"
done
# The final validation is not repeated when the schedule already validated the last step.
n=$(jq -s 'map(select(.kind == "validation" and .step == 48)) | length' "$work/every7/metrics.jsonl")
[[ $n == 1 ]] || fail "step 48 validated $n times"
for bad in "--checkpoint.every -1:checkpoint.every" "--train.epochs 0:train.epochs" "--train.max-steps -3:train.max-steps"; do
  set +e
  "$AVF" train --config "$work/base.ini" ${bad%%:*} --train.out "$work/bad" > "$work/bad.log" 2>&1
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "${bad%%:*}: exit $rc, expected 2 (configuration error)"
  grep -q "${bad##*:}" "$work/bad.log" || fail "${bad%%:*}: the error does not name ${bad##*:}: $(cat "$work/bad.log")"
done
echo PASS

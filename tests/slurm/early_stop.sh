#!/usr/bin/env bash
# Early stopping across trials, for real, on the local backend. Median rule: three trials of the real fusion
# stage run one after the other (throttle 1), so the rule's decisions are deterministic. With the
# median rule (grace 2 epochs, 2 other trials needed), the third trial (batch 12: one step per epoch,
# far behind at epoch 2) is stopped at epoch 2: it checkpoints and is recorded as stopped with the
# rule's reason, long before its 150 epochs; the second trial has only one other and runs to the end.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 150
lr = 0.01
INI
cat > "$work/spec.ini" <<INI
[sweep]
name = early
base = $work/base.ini
out = $work/sweep
[grid]
train.batch-size = 1, 2, 12
[resources]
throttle = 1
[early-stopping]
rule = median
grace = 2
min-trials = 2
INI
"$AVF" sweep run "$work/spec.ini" --backend local
"$AVF" sweep status "$work/spec.ini" | tee "$work/status.txt"
grep -q "3 trials (2 done, 1 stopped)" "$work/status.txt" || fail "expected 2 done and 1 stopped"
line=$(grep ' stopped ' "$work/status.txt")
id=${line%% *}
trial=$work/sweep/trials/$id
jq -e '.reason | test("^median rule at epoch 2: best metric -?[0-9.]+ is worse than the median -?[0-9.]+ of 2 other trials$")' \
  "$trial/status.json" > /dev/null || fail "reason of the stopped trial: $(jq -r .reason "$trial/status.json")"
jq -e --arg id "$id" '.trials[] | select(.id == $id) | .params["train.batch-size"] == "12"' "$work/sweep/sweep.json" \
  > /dev/null || fail "the stopped trial is not the one with batch 12"
epochs=$(grep -c '"kind":"validation"' "$trial/metrics.jsonl")
((epochs < 150)) || fail "the stopped trial ran all 150 epochs"
grep -q "preemption signal received" "$trial/train.log" || fail "the trainer was not asked to stop"
[[ -f $trial/checkpoints/last/model.pt ]] || fail "the stopped trial has no last checkpoint"
echo "stopped after $epochs of 150 epochs"

# ASHA (grace 1, eta 3: rungs at epochs 1, 3, 9): the first trial has no peer at its rungs and goes
# on; the second (batch 12) is below the first at the epoch-1 rung and stops there.
cat > "$work/asha.ini" <<INI
[sweep]
name = asha
base = $work/base.ini
out = $work/asha
[grid]
train.batch-size = 1, 12
[resources]
throttle = 1
[early-stopping]
rule = asha
grace = 1
eta = 3
INI
"$AVF" sweep run "$work/asha.ini" --backend local
"$AVF" sweep status "$work/asha.ini" | tee "$work/asha.txt"
grep -q "2 trials (1 done, 1 stopped)" "$work/asha.txt" || fail "asha: expected 1 done and 1 stopped"
grep ' stopped ' "$work/asha.txt" | grep -q "asha rung at epoch 1: best metric .* is not in the top 1/3" ||
  fail "asha: reason of the stopped trial"
echo PASS

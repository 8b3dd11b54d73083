#!/usr/bin/env bash
# Mixed precision end to end: `avf train --train.amp bf16` on 2 ranks trains the fusion stage on the
# tiny features (the loss falls, checkpoints are written and verify, the log says so), and its final
# weights differ from a float32 run's (the forward really ran in bfloat16).
source "$(dirname "$0")/lib.sh"
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 20
batch-size = 4
patience = 0
INI
for amp in off bf16; do
  mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$AVF" train --config "$work/base.ini" \
    --train.amp $amp --train.out "$work/$amp" > "$work/$amp.log" 2>&1 || fail "train.amp $amp: $(tail -3 "$work/$amp.log")"
done
grep -q "mixed precision: bf16 autocast" "$work/bf16.log" || fail "the bf16 run does not say it is mixed precision"
jq -s -e '[.[] | select(.kind == "train") | .loss] | .[0] > .[-1]' "$work/bf16/metrics.jsonl" > /dev/null ||
  fail "bf16 training loss did not fall"
[[ $(sha256sum < "$work/off/checkpoints/last/model.pt") != $(sha256sum < "$work/bf16/checkpoints/last/model.pt") ]] ||
  fail "bf16 and float32 runs ended with identical weights: autocast did nothing"
"$AVF" inspect "$work/bf16/checkpoints/last" > /dev/null || fail "bf16 checkpoint does not verify"
jq -s -e 'map(select(.kind == "validation")) | .[-1].metric' "$work/bf16/metrics.jsonl"
echo PASS

#!/usr/bin/env bash
# `avf export` and `avf evaluate` need a checkpoint's weights, not its optimizer or trainer state:
# a real fusion checkpoint with optimizer.pt (then also state.cbor) removed still exports the same
# file and evaluates to the same table, while resuming training from it is refused naming the file.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/run.ini" <<INI
[train]
stage = fusion
epochs = 3
batch-size = 4
INI
"$AVF" train --config "$work/run.ini" --train.out "$work/run" > "$work/train.log" 2>&1 || fail "training: $(tail -3 "$work/train.log")"
ck=$work/run/checkpoints/best
export_to() {  # exports the checkpoint to $1
  "$AVF" export "$ck" --output "$1" > "$work/export.log" 2>&1 || fail "export to $1: $(tail -3 "$work/export.log")"
}
evaluate() {  # prints the CCC table of the checkpoint
  "$AVF" evaluate --fusion "$ck" --data.features "$work/features" --log.progress off 2> "$work/evaluate.log" ||
    fail "evaluate: $(tail -3 "$work/evaluate.log")"
}
export_to "$work/full.h5"
full=$(evaluate)
echo "$full"

rm "$ck/optimizer.pt"
export_to "$work/without-optimizer.h5"
h5diff "$work/without-optimizer.h5" "$work/full.h5" || fail "without optimizer.pt, export wrote other weights"
[[ $(evaluate) == "$full" ]] || fail "without optimizer.pt, evaluate gave another table"
rm "$ck/state.cbor"
[[ $(evaluate) == "$full" ]] || fail "without state.cbor, evaluate gave another table"

# Resuming needs the training state: that is still refused, naming the missing file.
rc=0
"$AVF" train --config "$work/run.ini" --train.out "$work/resumed" --checkpoint.resume "$ck" > "$work/resume.log" 2>&1 || rc=$?
((rc != 0)) || fail "resumed from a checkpoint without optimizer.pt"
grep -q "best/optimizer.pt" "$work/resume.log" || fail "the resume error does not name optimizer.pt: $(tail -3 "$work/resume.log")"
echo PASS

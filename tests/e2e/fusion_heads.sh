#!/usr/bin/env bash
# The later fusion heads through the generic machinery: tiny visual and audio networks on the e2e
# corpus, features extracted, then for each of joint-cross-attention, recursive-joint-cross-attention
# (with the input BLSTMs), gated-recursive-joint-cross-attention and transformer: fusion trained on 2
# ranks with dist.global-statistics; the same run stopped mid-epoch (train.max-steps) and resumed
# from its checkpoint, whose final weights must be bit-identical (sha256) to the uninterrupted ones;
# export; predict --attention on a new video file, whose attention.csv must hold the head's maps;
# log.diagnostics on two heads: gradient norms and attention entropies in the metrics, same weights.
# Also checks that the example sweep over these heads plans.
# usage: fusion_heads.sh AVF DATA_DIR WORK_DIR MPIRUN SOURCE_DIR
set -euo pipefail
avf=$1 data=$2 work=$3 mpirun=$4 source=$5
mpi=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2)
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--log.progress off --train.patience 0 --train.threads 1 --dist.bind none --data.reader-threads 1)

# Unimodal networks just good enough to produce features: 64-d both (1024 x 0.0625, 1024 / 16).
"$avf" train --stage visual --data.shards "$data/shards" --model.width 0.0625 --data.crop-size 28 --train.batch-size 4 \
  --data.stride 32 --train.epochs 1 --train.max-steps 2 --train.out "$work/visual" "${common[@]}" > "$work/visual.log" 2>&1 ||
  fail "visual: $(tail -3 "$work/visual.log")"
"$avf" train --stage audio --data.shards "$data/shards" --model.audio-width-div 16 --train.batch-size 4 \
  --data.stride 32 --train.epochs 1 --train.max-steps 2 --train.out "$work/audio" "${common[@]}" > "$work/audio.log" 2>&1 ||
  fail "audio: $(tail -3 "$work/audio.log")"
"$avf" extract --visual "$work/visual/checkpoints/last" --audio "$work/audio/checkpoints/last" \
  --data.shards "$data/shards" --output "$work/features" --log.progress off > "$work/extract.log" 2>&1 ||
  fail "extract: $(tail -3 "$work/extract.log")"
ffmpeg -loglevel error -y -i "$data/corpus/recordings_video/dev_1.mp4" -i "$data/corpus/recordings_audio/dev_1.wav" \
  -c:v copy -c:a aac "$work/new_video.mp4"

# Global batch 4 (2 ranks x 2); stride 32 gives a few steps per epoch; 3 epochs.
fusion=(train --stage fusion --data.features "$work/features" --data.stride 32 --model.hidden 16 --model.dropout 0.2
        --train.batch-size 2 --train.epochs 3 --train.lr 0.01 --dist.global-statistics true "${common[@]}")
declare -A extra=(
  [joint-cross-attention]="--model.attention-dim 8"
  [recursive-joint-cross-attention]="--model.attention-dim 8 --model.recursions 2 --model.input-lstm true"
  [gated-recursive-joint-cross-attention]="--model.attention-dim 8 --model.recursions 2 --model.gate-temperature 0.5"
  [transformer]="--model.heads 4")
declare -A maps=(
  [joint-cross-attention]="iter1.audio iter1.visual"
  [recursive-joint-cross-attention]="iter1.audio iter2.visual"
  [gated-recursive-joint-cross-attention]="iter2.audio iter1.visual-gate gate.audio gate.visual"
  [transformer]="layer1")
for head in joint-cross-attention recursive-joint-cross-attention gated-recursive-joint-cross-attention transformer; do
  # shellcheck disable=SC2206
  args=("${fusion[@]}" --model.fusion "$head" ${extra[$head]})
  out="$work/$head"
  "${mpi[@]}" "$avf" "${args[@]}" --train.out "$out/straight" > "$out.straight.log" 2>&1 ||
    fail "$head: $(tail -3 "$out.straight.log")"
  total=$(jq -s 'map(select(.kind == "done")) | .[0].step' "$out/straight/metrics.jsonl")
  stop=$((total / 2 + 1))  # mid-epoch for any steps-per-epoch > 2
  "${mpi[@]}" "$avf" "${args[@]}" --train.out "$out/resumed" --train.max-steps "$stop" > "$out.first.log" 2>&1 ||
    fail "$head (first part): $(tail -3 "$out.first.log")"
  "${mpi[@]}" "$avf" "${args[@]}" --train.out "$out/resumed" --checkpoint.resume auto > "$out.resumed.log" 2>&1 ||
    fail "$head (resumed): $(tail -3 "$out.resumed.log")"
  grep -q "resumed from" "$out.resumed.log" || fail "$head: the second part did not resume"
  a=$(sha256sum < "$out/straight/checkpoints/last/model.pt")
  b=$(sha256sum < "$out/resumed/checkpoints/last/model.pt")
  [[ $a == "$b" ]] || fail "$head: resumed at step $stop of $total, the final weights differ"
  "$avf" export "$out/straight/checkpoints/last" --output "$out.h5" > /dev/null
  h5ls "$out.h5" | grep -q "head.fc1.weight" || fail "$head: export has no head.fc1.weight"
  "$avf" predict "$work/new_video.mp4" --visual "$work/visual/checkpoints/last" --audio "$work/audio/checkpoints/last" \
    --fusion "$out/straight/checkpoints/last" --output "$out.predict" --attention > "$out.predict.log" 2>&1 ||
    fail "$head predict: $(tail -3 "$out.predict.log")"
  for map in ${maps[$head]}; do
    grep -q ",$map," "$out.predict/attention.csv" || fail "$head: no map $map in attention.csv"
  done
  echo "$head: $total steps on 2 ranks, resumed at step $stop bit-exactly, exported, predicted with attention"
done
# log.diagnostics: per-module gradient norms and attention entropies in the metrics, and the same weights.
for head in transformer joint-cross-attention; do
  # shellcheck disable=SC2206
  args=("${fusion[@]}" --model.fusion "$head" ${extra[$head]})
  out="$work/$head"
  "${mpi[@]}" "$avf" "${args[@]}" --train.out "$out/diagnostics" --log.diagnostics true > "$out.diagnostics.log" 2>&1 ||
    fail "$head with diagnostics: $(tail -3 "$out.diagnostics.log")"
  a=$(sha256sum < "$out/straight/checkpoints/last/model.pt")
  b=$(sha256sum < "$out/diagnostics/checkpoints/last/model.pt")
  [[ $a == "$b" ]] || fail "$head: log.diagnostics changed the trained weights"
  jq -se 'map(select(.kind == "train")) | length > 0 and all(.grad_norm["head.fc1"] > 0)' \
    "$out/diagnostics/metrics.jsonl" > /dev/null || fail "$head: no head.fc1 gradient norm per epoch"
  jq -se 'map(select(.kind == "train")) | all(has("grad_norm") | not)' "$out/straight/metrics.jsonl" > /dev/null ||
    fail "$head: gradient norms written without log.diagnostics"
done
# The transformer's rows are distributions (entropy in (0, 1]); the joint maps are ReLU maps (null).
jq -se 'map(select(.kind == "validation")) | length > 0 and
        all(.attention_entropy.layer1 > 0 and .attention_entropy.layer1 <= 1.000001)' \
  "$work/transformer/diagnostics/metrics.jsonl" > /dev/null || fail "transformer: no attention entropy in (0, 1]"
jq -se 'map(select(.kind == "validation")) | all(.attention_entropy | has("iter1.audio") and .["iter1.audio"] == null)' \
  "$work/joint-cross-attention/diagnostics/metrics.jsonl" > /dev/null ||
  fail "joint-cross-attention: its ReLU maps should have a null entropy"
"$source/tools/plot-diagnostics" "$work/transformer/diagnostics" "$work/joint-cross-attention/diagnostics" \
  --out "$work/diagnostics.png" > /dev/null || fail "tools/plot-diagnostics failed"
[[ -s $work/diagnostics.png ]] || fail "tools/plot-diagnostics wrote no plot"
rc=0
"$source/tools/plot-diagnostics" "$work/transformer/straight" --out "$work/none.png" 2> "$work/none.err" || rc=$?
((rc == 2)) && grep -q "log.diagnostics true" "$work/none.err" ||
  fail "tools/plot-diagnostics on a run without diagnostics: exit $rc, $(cat "$work/none.err")"
echo "log.diagnostics: gradient norms and attention entropies written, weights unchanged, plotted"
"$avf" sweep plan "$source/jobs/examples/fusion-later.ini" | grep -q "sweep fusion-later: 16 trials" ||
  fail "the example sweep over the later heads does not plan 16 trials"
echo PASS

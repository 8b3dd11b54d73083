#!/usr/bin/env bash
# Results do not depend on the number of ranks: for every stage, 1 rank x batch 2B and 2 ranks x batch B
# (the same global batch, dropout 0) end with weights equal to 1e-5, with and without gradient
# accumulation. The same comparison with dist.global-statistics off must differ (each rank's own
# CCC and BatchNorm statistics), which shows the check can fail.
# usage: rank_independence.sh AVF DATA_DIR MAKE_FEATURES WORK_DIR MPIRUN
set -euo pipefail
avf=$1 data=$2 make_features=$3 work=$4 mpirun=$5
rm -rf "$work"
mkdir -p "$work"
"$make_features" "$work/features" > /dev/null
common=(--train.threads 1 --dist.bind none --log.progress off --train.patience 0 --data.reader-threads 1)
# A fresh tiny I3D is numerically chaotic in its first steps: the rounding of a different summation
# order (2 ranks, or 1 rank with 2 threads instead of 1: the very same differences) grows about
# 200-fold per step at lr 1e-3 (3e-9 after 1 step, 1e-3 after 4) and still reaches 1e-5 within 3 steps
# at lr 1e-4. At lr 3e-5 four steps stay near 5e-7, while each rank's own statistics part the runs by 0.1.
visual=(--train.stage visual --data.shards "$data/shards" --model.width 0.0625 --data.crop-size 24 --data.stride 16
        --model.visual-dropout 0 --train.epochs 1 --train.max-steps 4 --train.lr 0.00003)
audio=(--train.stage audio --data.shards "$data/shards" --model.audio-width-div 16 --data.stride 16
       --model.audio-dropout 0 --train.epochs 1 --train.max-steps 4 --train.lr 0.01)
fusion=(--train.stage fusion --data.features "$work/features" --model.feature-dim 16 --model.hidden 16
        --model.dropout 0 --data.stride 16 --train.epochs 2 --train.lr 0.01)

fail() { echo "FAIL: $*" >&2; exit 1; }
python=""
for p in /usr/bin/python3 python3; do "$p" -c 'import h5py' 2> /dev/null && { python=$p; break; }; done
[[ -n $python ]] || fail "no python3 with h5py (Debian: python3-h5py)"
compare() { "$python" "$(dirname "$0")/../../tools/compare-weights" "$work/$1.h5" "$work/$2.h5" "$3"; }

# run NAME RANKS BATCH ARGS...: trains and exports the final weights to NAME.h5.
run() {
  local name=$1 ranks=$2 batch=$3
  shift 3
  local launch=()
  ((ranks > 1)) && launch=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np "$ranks")
  "${launch[@]}" "$avf" train "${common[@]}" "$@" --train.batch-size "$batch" --train.out "$work/$name" \
    > "$work/$name.log" 2>&1 || fail "$name: $(tail -5 "$work/$name.log")"
  "$avf" export "$work/$name/checkpoints/last" --output "$work/$name.h5" > /dev/null
}

same() {  # NAME_A NAME_B: every weight within 1e-5
  echo -n "$1 vs $2: "
  compare "$1" "$2" 1e-5 || fail "$1 and $2 differ by more than 1e-5"
}

differ() {  # NAME_A NAME_B: some weight differs by more than 1e-5
  echo -n "$1 vs $2 (local statistics): "
  compare "$1" "$2" 1e-5 && fail "$1 and $2 are equal although dist.global-statistics is off: the comparison cannot fail"
  return 0
}

for stage in visual audio fusion; do
  declare -n args=$stage
  run "$stage-1x4" 1 4 "${args[@]}"
  run "$stage-2x2" 2 2 "${args[@]}"
  same "$stage-1x4" "$stage-2x2"
done
# Accumulation: 2 micro-batches per step, each the CCC of its global micro-batch on any number of ranks.
run audio-acc-1x2 1 2 "${audio[@]}" --train.accumulate 2
run audio-acc-2x1 2 1 "${audio[@]}" --train.accumulate 2
same audio-acc-1x2 audio-acc-2x1
# The check can fail: with each rank's own statistics the runs part.
for stage in visual audio fusion; do
  declare -n args=$stage
  run "$stage-2x2-local" 2 2 "${args[@]}" --dist.global-statistics false
  differ "$stage-1x4" "$stage-2x2-local"
done
echo PASS

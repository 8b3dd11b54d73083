#!/usr/bin/env bash
# Training on a GPU (label `cuda`; exit 77 = skipped where there is no GPU or LibTorch is CPU-only):
#  - the fusion stage on 1 rank with NCCL, float32 and bf16: finishes, validates, checkpoints verify;
#  - 2 processes sharing the one GPU (dist.backend mpi stages gradients through the host; NCCL refuses
#    two ranks on one device) with batch B end where 1 rank with batch 2B ends (weights within 1e-4);
#  - with shards (AVF_CUDA_TEST_SHARDS), the visual stage the same way.
# usage: cuda_train.sh AVF MAKE_FEATURES WORK_DIR MPIRUN
set -euo pipefail
avf=$1 make_features=$2 work=$3 mpirun=$4
if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then echo "SKIP: no NVIDIA GPU"; exit 77; fi
if ! "$avf" --version | grep -q "LibTorch .*(CUDA)"; then echo "SKIP: avf was built with a CPU-only LibTorch"; exit 77; fi
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
"$make_features" "$work/features" > /dev/null
common=(--train.device cuda --dist.bind none --log.progress off --train.patience 0 --data.reader-threads 1
        --train.threads 2)
fusion=(--train.stage fusion --data.features "$work/features" --model.feature-dim 16 --model.hidden 16
        --model.dropout 0 --data.stride 16 --train.epochs 3 --train.lr 0.01)

run() {  # NAME RANKS BACKEND BATCH ARGS...
  local name=$1 ranks=$2 backend=$3 batch=$4
  shift 4
  local launch=()
  ((ranks > 1)) && launch=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np "$ranks")
  local t0=$SECONDS
  "${launch[@]}" "$avf" train "${common[@]}" --dist.backend "$backend" --train.batch-size "$batch" "$@" \
    --train.out "$work/$name" > "$work/$name.log" 2>&1 || fail "$name: $(tail -5 "$work/$name.log")"
  grep -q "device cuda" "$work/$name.log" || fail "$name did not run on the GPU: $(grep -m1 device "$work/$name.log")"
  "$avf" inspect "$work/$name/checkpoints/last" > /dev/null || fail "$name: the checkpoint does not verify"
  "$avf" export "$work/$name/checkpoints/last" --output "$work/$name.h5" > /dev/null
  echo "$name: $((SECONDS - t0)) s, final validation $(jq -s -c 'map(select(.kind == "validation")) | .[-1].ccc' "$work/$name/metrics.jsonl")"
}

close() {  # A B TOLERANCE: every exported weight within TOLERANCE (tools/compare-weights)
  echo -n "$1 vs $2: "
  python3 "$(dirname "$0")/../../tools/compare-weights" "$work/$1.h5" "$work/$2.h5" "$3" || fail "$1 and $2 differ"
}

run fusion-nccl-1x4 1 nccl 4 "${fusion[@]}"
run fusion-bf16-1x4 1 nccl 4 "${fusion[@]}" --train.amp bf16
grep -q "mixed precision: bf16" "$work/fusion-bf16-1x4.log" || fail "the bf16 run does not say so"
run fusion-mpi-2x2 2 mpi 2 "${fusion[@]}"
close fusion-nccl-1x4 fusion-mpi-2x2 1e-4
if [[ -n ${AVF_CUDA_TEST_SHARDS:-} ]]; then
  visual=(--train.stage visual --data.shards "$AVF_CUDA_TEST_SHARDS" --model.width 0.25 --data.stride 16
          --model.visual-dropout 0 --train.epochs 2 --train.lr 0.01)
  run visual-nccl-1x4 1 nccl 4 "${visual[@]}"
  run visual-bf16-1x4 1 nccl 4 "${visual[@]}" --train.amp bf16
  run visual-mpi-2x2 2 mpi 2 "${visual[@]}"
  close visual-nccl-1x4 visual-mpi-2x2 1e-3
fi
echo PASS

#!/usr/bin/env bash
# A rank that stops (SIGSTOP) at POINT must not hang a 2-rank job: the rank left waiting ends it with
# exit 4 (peer_failed) within dist.timeout + 10 s of the stop, its message naming what it waited for.
# The rank is stopped by the test hook of dist/watchdog.h: AVF_TEST_STOP_AT=<wait name prefix>:1
# makes rank 1 raise SIGSTOP as it begins that wait, so rank 0 waits in the same one.
# usage: stopped_rank.sh POINT AVF MAKE_TINY_FEATURES MPIRUN SOURCE_DIR
#   POINT: startup | vote | bucket | validation | checkpoint | preprocess
set -u
point=$1 avf=$2 make_features=$3 mpirun=$4 src=$5
timeout_s=5
work=$(mktemp -d "${TMPDIR:-/tmp}/avf-stopped-$point-XXXXXX")
fail() {
  echo "FAIL: $*"
  exit 1
}

case $point in
  startup) stop_at="start-up:1" expect="rank 0: start-up \(MPI_Init_thread, which waits for every rank to start\)" ;;
  vote) stop_at="step-boundary vote:1" expect="rank 0: step-boundary vote on stopping \(MPI_Allreduce on MPI_COMM_WORLD\)" ;;
  bucket) stop_at="collective 'gradient bucket:1" expect="rank 0: collective 'gradient bucket 0' \(#[0-9]+\)" ;;
  validation) stop_at="collective 'evaluation statistics:1" expect="rank 0: collective 'evaluation statistics' \(#[0-9]+\)" ;;
  checkpoint) stop_at="collective 'checkpoint barrier:1"
    expect="rank 0: collective 'checkpoint barrier \(rank 0 writing checkpoints\)' \(#[0-9]+\)" ;;
  preprocess) stop_at="preprocessing: gathering:1"
    expect="rank 0: preprocessing: gathering every rank's results at rank 0 \([^)]*\) \(MPI_Gather, MPI_Gatherv\)" ;;
  *) fail "unknown point '$point'" ;;
esac
expect="$expect did not complete within $timeout_s.0 s"

if [[ $point == preprocess ]]; then
  # 2 subjects of 2 s in 64 KiB shards: one shard per rank.
  "$src/tools/make-corpus" --output "$work/corpus" --subjects 2 --seconds 2 --seed 7 --width 160 --height 120 \
    --face-size 48 > "$work/corpus.log" 2>&1 || { cat "$work/corpus.log"; fail "make-corpus failed"; }
  cmd=(preprocess --input "$work/corpus" --output "$work/shards" --face-size 32 --shard-size 64KiB --progress off
       --dist.timeout "$timeout_s")
else
  # The fusion stage on tiny features: one optimizer step per epoch, a validation after each.
  "$make_features" "$work/features" > /dev/null || fail "make_tiny_features failed"
  cmd=(train --stage fusion --data.features "$work/features" --data.reader-threads 1 --data.prefetch-batches 1
       --model.feature-dim 16 --model.hidden 16 --train.batch-size 4 --train.epochs 3 --train.threads 1
       --dist.bind none --log.progress off --train.out "$work/run" --dist.timeout "$timeout_s")
fi

echo "AVF_TEST_STOP_AT='$stop_at' mpirun -np 2 avf ${cmd[*]}"
AVF_TEST_STOP_AT=$stop_at timeout 90 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2 \
  "$avf" "${cmd[@]}" > "$work/out.log" 2>&1 &
launcher=$!
wait $launcher
rc=$?
end=$(date +%s.%N)
cat "$work/out.log"

# A rank left stopped behind the launcher would be a leak; end it (by pid) and fail.
leftover=$(pgrep -f -- "$work/" | grep -vx "$$" || true)
if [[ -n $leftover ]]; then
  kill -KILL $leftover 2> /dev/null
  fail "processes left behind: $leftover"
fi

stop_line=$(grep -m1 "AVF_TEST_STOP_AT: rank 1 stops itself" "$work/out.log") || fail "rank 1 never reached '$stop_at'"
stop=$(date -d "$(cut -c1-23 <<< "$stop_line")" +%s.%N)
elapsed=$(awk -v a="$stop" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo "exit code $rc, ${elapsed} s from the stop to the end of the job"
((rc != 124)) || fail "the job hung (killed by timeout 90)"
((rc == 4)) || fail "exit code $rc, expected 4 (peer_failed)"
awk -v e="$elapsed" -v t="$timeout_s" 'BEGIN { exit !(e <= t + 10) }' || fail "took ${elapsed} s, more than dist.timeout + 10 s"
grep -Eq "$expect" "$work/out.log" || fail "the output lacks /$expect/"
if [[ $point == preprocess ]]; then
  [[ ! -e $work/shards/manifest.json ]] || fail "a manifest was written although a rank never reported"
fi
rm -rf "$work"
echo ok

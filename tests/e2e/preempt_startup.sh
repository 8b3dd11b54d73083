#!/usr/bin/env bash
# The preemption signal during start-up (MPI not up yet, torch loading, data not read) must not kill
# the trainer: it stops at the first step boundary, saves `last` and exits 3 (preempted) on every
# rank. With 2 ranks only one rank gets the signal; the step-boundary vote stops the other too.
# usage: preempt_startup.sh RANKS AVF MAKE_TINY_FEATURES MPIRUN
set -u
ranks=$1 avf=$2 make_features=$3 mpirun=$4
delay=0.3  # seconds after the training process appears (the reported case)
work=$(mktemp -d "${TMPDIR:-/tmp}/avf-preempt-startup-$ranks-XXXXXX")
fail() {
  echo "FAIL: $*"
  exit 1
}

"$make_features" "$work/features" > /dev/null || fail "make_tiny_features failed"
cmd=(train --stage fusion --data.features "$work/features" --data.reader-threads 1 --data.prefetch-batches 1
     --model.feature-dim 16 --model.hidden 16 --train.batch-size 4 --train.epochs 3 --train.threads 1
     --dist.bind none --log.progress off --train.out "$work/run")
launch=()
((ranks > 1)) && launch=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np "$ranks")

timeout 90 "${launch[@]}" "$avf" "${cmd[@]}" > "$work/out.log" 2>&1 &
job=$!
# The training processes: the one named by the command line (the launcher's children for mpirun).
targets=""
for _ in $(seq 500); do
  targets=$(pgrep -f -- "^$avf train .*--train.out $work/run" || true)
  (($(wc -w <<< "$targets") >= ranks)) && break
  sleep 0.01
done
(($(wc -w <<< "$targets") >= ranks)) || fail "the training processes did not start"
target=$(head -n1 <<< "$targets")
sleep "$delay"
# Still starting: rank 0 logs its world and communicator once start-up is done.
grep -q "communicator" "$work/out.log" && fail "start-up was already over after $delay s; this test needs a slower start"
echo "sending SIGUSR2 to pid $target ($ranks rank(s)) $delay s after it started"
kill -USR2 "$target"
wait $job
rc=$?
cat "$work/out.log"
echo "exit code $rc"
((rc != 124)) || fail "the job hung"
((rc == 3)) || fail "exit code $rc, expected 3 (preempted)"
n=$(grep -c "preemption signal received: saving .last. at epoch 0, batch 0, step 0" "$work/out.log")
((n == ranks)) || fail "$n rank(s) stopped before the first step, expected $ranks"
[[ -f $work/run/checkpoints/last/metadata.json ]] || fail "no last checkpoint"
rm -rf "$work"
echo ok

#!/usr/bin/env bash
# Preemption for real: `scancel --signal=USR2 --batch` on a running array task of 2 MPI ranks makes
# the trial checkpoint `last` and requeue itself; it resumes and ends with the same weights (sha256)
# as an uninterrupted run of the same trial (local backend, mpirun -np 2). The trial trains the real fusion stage for 80 short epochs,
# long enough to be caught mid-run.
source "$(dirname "$0")/lib.sh"
start_cluster
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 80
batch-size = 4
INI

write_spec() {  # $1: sweep directory
  cat > "$work/spec.ini" <<INI
[sweep]
name = preempt
base = $work/base.ini
out = $1
[grid]
train.lr = 0.002
[resources]
ranks = 2
INI
}
write_spec "$work/preempted"
"$AVF" sweep run "$work/spec.ini" --backend slurm
trial=$(ls -d "$work"/preempted/trials/*)
wait_for 30 "trial running with five validations" \
  bash -c "[[ \$(jq -r .state '$trial/status.json') == running ]] && (( \$(cat '$trial/metrics.jsonl' 2>/dev/null | grep -c validation) >= 5 ))"
job=$(jq -r .job_id "$trial/status.json")
echo "preempting job $job"
scancel --signal=USR2 --batch "$job"
wait_for 30 "trial preempted and requeued" bash -c "jq -e '.state == \"preempted\" and (.reason | test(\"requeued\"))' '$trial/status.json' > /dev/null"
jq . "$trial/status.json"
[[ -f $trial/checkpoints/last/model.pt ]] || fail "no last checkpoint after preemption"
wait_for 20 "job back in the queue" bash -c "squeue -h -r -j '$job' -o %T | grep -q PENDING"
# SLURM holds a requeued batch job for a fixed two minutes (BeginTime); start it now instead.
scontrol update JobId="$job" StartTime=now
"$AVF" sweep run "$work/spec.ini" --backend slurm --wait --poll 2 --timeout 90
jq -e '.state == "done" and .restarts == 1' "$trial/status.json" > /dev/null || fail "trial not done after one restart"
grep -q "resumed from .*/checkpoints/last at epoch" "$trial/train.log" || fail "the second attempt did not resume from last"
grep -q "preemption signal received: saving .last." "$trial/train.log" || fail "the trainer did not see the signal"

# The same trial without interruption (same id: same parameters), on the local backend.
write_spec "$work/reference"
"$AVF" sweep run "$work/spec.ini" --backend local
reference=$work/reference/trials/$(basename "$trial")
grep -q "rank 0/2" "$trial/train.log" && grep -q "rank 0/2" "$reference/train.log" || fail "not 2 ranks"
same_final_weights "$trial" "$reference"
echo PASS

#!/usr/bin/env bash
# slurm/train.sbatch for real: a 2-rank fusion run is sent USR2 (`scancel --signal=USR2 --batch`,
# as SLURM does before the time limit with --signal=B:USR2@300); the template forwards it to srun,
# the ranks checkpoint `last`, the trainer requeues the job, and the restarted job resumes and ends
# with the weights of an uninterrupted 2-rank run (mpirun -np 2). The other templates are checked
# for syntax.
source "$(dirname "$0")/lib.sh"
for t in "$SRC"/slurm/*.sbatch "$SRC"/slurm/*.sbatch.in "$SRC/slurm/local-cluster"; do
  bash -n "$t" || fail "$t: syntax"
done
start_cluster
make_base_config "$work/run.ini" <<INI
[train]
stage = fusion
epochs = 80
batch-size = 4
INI
# The template asks for 2 ranks x 4 cores; this node has 2 cores.
job=$(sbatch --parsable --cpus-per-task=1 --output="$work/train.out" "$SRC/slurm/train.sbatch" \
  --config "$work/run.ini" --train.out "$work/run")
wait_for 60 "five validations" bash -c "(( \$(cat '$work/run/metrics.jsonl' 2> /dev/null | grep -c validation) >= 5 ))"
scancel --signal=USR2 --batch "$job"
wait_for 30 "requeued by the trainer" bash -c "grep -q 'preemption signal received' '$work/train.out' &&
  squeue -h -j $job -o %T | grep -q PENDING"
# SLURM holds a requeued batch job for two minutes (BeginTime); start it now instead.
scontrol update JobId="$job" StartTime=now
wait_for 90 "the resumed job to finish" bash -c "grep -q 'done: best' '$work/train.out' && [[ -z \$(squeue -h -j $job 2> /dev/null) ]]"
grep -q "resumed from .*/checkpoints/last" "$work/train.out" || fail "the restarted job did not resume from last"
grep -q "rank 0/2" "$work/train.out" || fail "not 2 ranks"

mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$AVF" train --config "$work/run.ini" --train.out "$work/reference" \
  > "$work/reference.log" 2>&1 || fail "reference run: $(tail -3 "$work/reference.log")"
same_final_weights "$work/run" "$work/reference"
echo PASS

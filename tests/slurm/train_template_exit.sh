#!/usr/bin/env bash
# slurm/train.sbatch exits with the trainer's outcome, not the launcher's code: 0 for a finished run,
# 3 for a run that was signalled and checkpointed `last`, so that job runners (and --requeue
# policies) can tell a preemption from a failure. The launcher here is a stand-in srun that runs the
# real trainer under mpirun -np 2, which, signalled with SIGTERM, forwards it to the ranks (they
# save `last` and exit 3) but itself exits 1.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/run.ini" <<INI
[train]
stage = fusion
batch-size = 4
INI
make_srun_standin
export LAUNCHER="mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2"
# Call it in a subshell, "(template ...)": the exec makes that subshell's pid the template's.
template() { cd "$work" && PATH="$work/bin:$PATH" exec bash "$SRC/slurm/train.sbatch" --config run.ini "$@"; }

(template --train.epochs 2 --train.out "$work/done") > "$work/done.log" 2>&1 || fail "finished run: exit code $?: $(tail -3 "$work/done.log")"
[[ $(tail -n 1 "$work/done/metrics.jsonl" | jq -r .kind) == "done" ]] || fail "no done record"

# SIGTERM (scancel, the time limit) to the batch shell during training.
(template --train.epochs 100000 --train.out "$work/term") > "$work/term.log" 2>&1 &
job=$!
wait_for 60 "three validations" bash -c "(( \$(cat '$work/term/metrics.jsonl' 2> /dev/null | grep -c validation) >= 3 ))"
kill -TERM "$job"
rc=0
wait "$job" || rc=$?
cat "$work/term.log"
grep -q "preemption signal received" "$work/term.log" || fail "the ranks did not get the signal"
test -f "$work/term/checkpoints/last/metadata.json" || fail "no last checkpoint"
((rc == 3)) || fail "exit code $rc after SIGTERM, expected 3 (preempted)"
# The point of reading the trainer's outcome: the launcher itself did not say 3.
grep -q "srun exited 1; the trainer's outcome is exit code 3" "$work/term.log" || fail "mpirun's own exit code was not 1"
echo PASS

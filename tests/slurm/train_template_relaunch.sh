#!/usr/bin/env bash
# slurm/train.sbatch relaunches a step that never reached the trainer (srun: "task 0 launch
# failed", exit 0, as seen after a requeue), and only such a step: run as a plain script with a
# stand-in srun on PATH that fails to launch the first times and then runs the real trainer. The
# real srun path is train_template.sh.
source "$(dirname "$0")/lib.sh"
make_base_config "$work/run.ini" <<INI
[train]
stage = fusion
epochs = 2
batch-size = 4
out = $work/run
INI
make_srun_standin
run_template() {  # env for the stand-in srun, then template arguments; prints the template's stderr
  local envs=()
  while (($#)) && [[ $1 == *=* ]]; do envs+=("$1"); shift; done
  rm -f "$work/calls"
  (cd "$work" && env PATH="$work/bin:$PATH" "${envs[@]}" bash "$SRC/slurm/train.sbatch" --config run.ini "$@" 2>&1)
}

out=$(run_template FAILED_LAUNCHES=1) || fail "exit code $?: $out"
echo "$out"
(($(wc -l < "$work/calls") == 2)) || fail "expected 2 launches, got $(wc -l < "$work/calls")"
grep -q "launching again in 3 s" <<< "$out" || fail "no relaunch message"
grep -q -- "train --checkpoint.resume auto --checkpoint.requeue true --config run.ini" "$work/calls" || fail "arguments"
[[ $(tail -n 1 "$work/run/metrics.jsonl" | jq -r .kind) == "done" ]] || fail "the relaunched trainer did not finish"

# Three failed launches: the template gives up without a fourth, and fails although srun said 0:
# the trainer never ran (its metrics got no new "done" record).
rc=0
out=$(run_template FAILED_LAUNCHES=5) || rc=$?
(($(wc -l < "$work/calls") == 3)) || fail "expected 3 launches, got $(wc -l < "$work/calls")"
[[ $(grep -c "launching again" <<< "$out") == 2 ]] || fail "expected 2 relaunch messages"
((rc == 1)) || fail "exit code $rc after three failed launches, expected 1: $out"

# A trainer that ran and failed is not launched again; its exit code is the job's.
rc=0
run_template --data.features "$work/missing" > "$work/failed.log" || rc=$?
((rc == 1)) || fail "exit code $rc, expected 1: $(tail -3 "$work/failed.log")"
(($(wc -l < "$work/calls") == 1)) || fail "a failed trainer was launched again"
echo PASS

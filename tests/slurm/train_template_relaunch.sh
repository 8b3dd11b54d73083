#!/usr/bin/env bash
# slurm/train.sbatch relaunches a step that never reached the trainer (srun: "task 0 launch
# failed", exit 0, as seen after a requeue), and only such a step: run as a plain script with a
# stand-in srun on PATH that fails to launch the first time. The real srun path is train_template.sh.
source "$(dirname "$0")/lib.sh"
mkdir -p "$work/bin"
cat > "$work/bin/srun" <<SH
#!/bin/bash
echo "\$*" >> "$work/calls"
if (( \$(wc -l < "$work/calls") <= \${FAILED_LAUNCHES:-0} )); then
  echo "srun: error: task 0 launch failed: Unspecified error" >&2
  exit 0
fi
echo "trainer ran" >&2
exit \${TRAINER_EXIT:-0}
SH
chmod +x "$work/bin/srun"
run_template() {  # env for the stand-in srun; prints the template's stderr
  rm -f "$work/calls"
  env PATH="$work/bin:$PATH" "$@" bash "$SRC/slurm/train.sbatch" --config run.ini 2>&1
}

out=$(FAILED_LAUNCHES=1 run_template) || fail "exit code $?: $out"
echo "$out"
(($(wc -l < "$work/calls") == 2)) || fail "expected 2 launches, got $(wc -l < "$work/calls")"
grep -q "launching again in 3 s" <<< "$out" || fail "no relaunch message"
grep -q -- "train --checkpoint.resume auto --checkpoint.requeue true --config run.ini" "$work/calls" || fail "arguments"

# Three failed launches: the template gives up (srun's exit code) without a fourth.
out=$(FAILED_LAUNCHES=5 run_template)
(($(wc -l < "$work/calls") == 3)) || fail "expected 3 launches, got $(wc -l < "$work/calls")"
[[ $(grep -c "launching again" <<< "$out") == 2 ]] || fail "expected 2 relaunch messages"

# A trainer that ran and failed is not launched again; its exit code is the job's.
rc=0
TRAINER_EXIT=1 run_template > /dev/null || rc=$?
((rc == 1)) || fail "exit code $rc, expected 1"
(($(wc -l < "$work/calls") == 1)) || fail "a failed trainer was launched again"
echo PASS

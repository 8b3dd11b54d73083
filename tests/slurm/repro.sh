#!/usr/bin/env bash
# `avf repro --seeds 2` on the real fusion stage: passes the bit-identical check, and fails it when
# determinism is broken on purpose (the test-only --test-perturb changes the second seed-1 run).
# With slurm: as a job array, and once more as one job from slurm/repro.sbatch.
#   repro.sh local | slurm
backend=${1:?usage: repro.sh local|slurm}
source "$(dirname "$0")/lib.sh"
[[ $backend == slurm ]] && start_cluster
make_base_config "$work/tiny.ini" <<INI
[train]
stage = fusion
epochs = 3
batch-size = 4
lr = 0.01
INI
args=(--seeds 2 --backend "$backend" --poll 2 --timeout 90)
"$AVF" repro "$work/tiny.ini" "${args[@]}" --out "$work/ok" | tee "$work/ok.txt"
grep -q "Bit-identical check .*: \*\*PASS\*\*" "$work/ok.txt" || fail "bit-identical check did not pass"
jq -e '.bit_identical and .world_size == 1 and (.ccc.valence.n == 2) and (.code.version | length > 0)
       and (.hardware.nproc > 0) and (.build_info | test("LibTorch"))' "$work/ok/repro.json" > /dev/null ||
  fail "repro.json lacks the summary, code, library or hardware facts"
grep -qE '^\| valence \| [0-9.]+ \| [0-9.]+ \| 2 \|$' "$work/ok.txt" || fail "no mean ± std of valence over 2 seeds"

rc=0
"$AVF" repro "$work/tiny.ini" "${args[@]}" --out "$work/broken" --test-perturb train.lr=0.0101 > "$work/broken.txt" || rc=$?
cat "$work/broken.txt"
((rc == 1)) || fail "a broken run must exit 1, got $rc"
grep -q "Bit-identical check .*: \*\*FAIL\*\*" "$work/broken.txt" || fail "bit-identical check did not fail"

if [[ $backend == slurm ]]; then
  # slurm/repro.sbatch: the same inside one allocation (the template asks for 4 tasks; this node has 2).
  job=$(sbatch --parsable --ntasks=2 --output="$work/template.out" "$SRC/slurm/repro.sbatch" "$work/tiny.ini" \
    --seeds 2 --throttle 2 --out "$work/template")
  wait_for 90 "repro.sbatch to finish" bash -c "[[ -z \$(squeue -h -j $job 2> /dev/null) ]]"
  jq -e '.bit_identical' "$work/template/repro.json" > /dev/null || fail "repro.sbatch: $(tail -5 "$work/template.out")"
fi
echo PASS

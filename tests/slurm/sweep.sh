#!/usr/bin/env bash
# End-to-end sweep: 7 tiny trials of the real fusion stage, at most 2 at once, one with a batch size
# larger than the training set (it fails when it starts training). Checks that the
# sweep completes except that trial, which fails with its reason; that the leaderboard matches the
# trials' own metric files; and that after the spec is fixed, `resume` runs only the fixed trial.
#   sweep.sh slurm   one job array on a local SLURM cluster started by this test
#   sweep.sh local   the local backend, no SLURM
backend=${1:?usage: sweep.sh slurm|local}
source "$(dirname "$0")/lib.sh"
[[ $backend == slurm ]] && start_cluster

make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 3
lr = 0.01
INI
spec=$work/tiny.ini
write_spec() {  # $1: the batch size of the seventh trial
  cat > "$spec" <<INI
[sweep]
name = tiny
base = $work/base.ini
out = $work/sweep
[grid]
train.batch-size = 1, 2, 3, 4, 6, 12, $1
[resources]
throttle = 2
time = 5
INI
}
write_spec 64  # more than the 12 training sequences: the trainer stops with an error
sweep=$work/sweep
wait_args=()
[[ $backend == slurm ]] && wait_args=(--wait --poll 2 --timeout 100)

"$AVF" sweep plan "$spec" | tee "$work/plan.txt"
grep -q "tiny: 7 trials" "$work/plan.txt" || fail "plan: expected 7 trials"

t0=$SECONDS
if [[ $backend == slurm ]]; then
  "$AVF" sweep run "$spec" --backend slurm | tee "$work/submit.txt"
  (( SECONDS - t0 < 15 )) || fail "submission took $((SECONDS - t0)) s: it must return at once"
  grep -q "submitted 7 trials" "$work/submit.txt" || fail "submission output"
  jq -e 'length == 1 and (.[0].trials | length) == 7' "$sweep/submissions.json" > /dev/null || fail "not one array of 7"
  grep -q '^#SBATCH --array=0-6%2$' "$sweep"/slurm/array-0-0.sbatch || fail "array line"
  # Gentle polling: squeue and sacct on PATH are counted; at most one squeue per 2 s poll interval
  # (plus the one before submitting and the final one), never sacct.
  mkdir -p "$work/bin"
  for tool in squeue sacct; do
    printf '#!/bin/sh\necho "$(date +%%s)" >> %q\nexec %q "$@"\n' "$work/$tool.calls" "$(command -v $tool)" > "$work/bin/$tool"
    chmod +x "$work/bin/$tool"
  done
  rc=0
  t1=$SECONDS
  PATH=$work/bin:$PATH "$AVF" sweep run "$spec" --backend slurm "${wait_args[@]}" || rc=$?
  calls=$(cat "$work/squeue.calls" 2> /dev/null | wc -l)
  echo "squeue called $calls times in $((SECONDS - t1)) s"
  ((calls >= 1 && calls <= (SECONDS - t1) / 2 + 3)) || fail "squeue called $calls times in $((SECONDS - t1)) s"
  [[ ! -e $work/sacct.calls ]] || fail "sacct was called"
else
  rc=0
  "$AVF" sweep run "$spec" --backend local || rc=$?
fi
echo "sweep ran in $((SECONDS - t0)) s, exit $rc"
((rc == 1)) || fail "a sweep with a failed trial must exit 1, got $rc"

"$AVF" sweep status "$spec" | tee "$work/status.txt"
grep -q "7 trials (6 done, 1 failed)" "$work/status.txt" || fail "status summary"
bad=$(grep ' failed ' "$work/status.txt" | awk '{print $1}')
grep ' failed ' "$work/status.txt" | grep -q "fewer than one global batch" || fail "the failed trial's reason is not shown"
jq -e '.exit_code == 1 and (.reason | test("12 training sequences are fewer than one global batch \\(64 x 1 ranks"))' \
  "$sweep/trials/$bad/status.json" > /dev/null || fail "status.json of the failed trial"
(( $(max_concurrent "$sweep"/trials/*/status.json) <= 2 )) || fail "more than 2 trials ran at once"

"$AVF" sweep report "$spec" > "$work/report.txt"
csv=$sweep/report/leaderboard.csv
cat "$csv"
# Every row's metric is the best validation in that trial's own metrics file, rows best first.
prev=""
tail -n +2 "$csv" | while IFS=, read -r rank id state metric epoch epochs batch rest; do
  if [[ $state == done ]]; then
    expected=$(best_metric "$sweep/trials/$id")
    awk -v a="$metric" -v b="$expected" 'BEGIN { exit !((a - b) < 1e-6 && (b - a) < 1e-6) }' ||
      fail "trial $id: leaderboard says $metric, metrics.jsonl says $expected"
    [[ -z $prev ]] || awk -v a="$prev" -v b="$metric" 'BEGIN { exit !(a >= b) }' || fail "leaderboard not sorted"
    prev=$metric
  else
    [[ $id == "$bad" && -z $metric ]] || fail "row $rank: only the failed trial may lack a metric"
  fi
done
best=$(sed -n 2p "$csv" | cut -d, -f2)
grep -q "checkpoint: \`$sweep/trials/$best/checkpoints/best\`" "$sweep/report/leaderboard.md" || fail "best checkpoint path"
[[ -f $sweep/trials/$best/checkpoints/best/model.pt ]] || fail "best checkpoint missing"
[[ -s $sweep/report/metric-vs-train.batch-size.png ]] || fail "plot missing"

# Fix the spec; resume must run the fixed trial and nothing else.
md5sum "$sweep"/trials/*/status.json | grep -v "/$bad/" > "$work/before.md5"
write_spec 5
t0=$SECONDS
"$AVF" sweep resume "$spec" --backend "$backend" "${wait_args[@]}" 2>&1 | tee "$work/resume.txt"
echo "resume ran in $((SECONDS - t0)) s"
grep -q "7 trials, 1 to run" "$work/resume.txt" || fail "resume must run exactly one trial"
md5sum -c --quiet "$work/before.md5" || fail "resume touched a finished trial"
"$AVF" sweep status "$spec" | tee "$work/status2.txt"
grep -q "7 trials (7 done)" "$work/status2.txt" || fail "after resume every trial is done"
if [[ $backend == slurm ]]; then
  jq -e 'length == 2 and (.[1].trials | length) == 1' "$sweep/submissions.json" > /dev/null || fail "resume submitted more than one trial"
fi
echo PASS

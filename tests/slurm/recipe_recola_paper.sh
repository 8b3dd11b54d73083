#!/usr/bin/env bash
# recipes/recola-paper end to end at toy sizes (--toy) on a generated RECOLA-layout corpus (4 subjects,
# 10 s): preprocess -> audio, visual -> extract -> fusion sweep -> repro over 2 seeds -> evaluate.
# Checks that every stage ran (its marker in the run directory; on SLURM, written by the job that
# `run` submitted for it), that table3.md and table3.json hold a finite CCC for every model, target
# and kind (fusion over 2 seeds), that a second `run` redoes nothing, and that a failing stage stops
# the chain (on SLURM: the jobs after it are cancelled).
#   recipe_recola_paper.sh slurm   dependent jobs on a local SLURM cluster started by this test
#   recipe_recola_paper.sh local   run --local: the same stages as plain processes
backend=${1:?usage: recipe_recola_paper.sh slurm|local}
source "$(dirname "$0")/lib.sh"
[[ $backend == slurm ]] && start_cluster
run=$SRC/recipes/recola-paper/run
stages=(preprocess audio visual extract sweep repro evaluate)
mode=(--local)
[[ $backend == slurm ]] && mode=(--wait --timeout 1100)

t0=$SECONDS
timeout 300 "$SRC/tools/make-corpus" --output "$work/corpus" --subjects 4 --seconds 10 --seed 7 --width 320 --height 240 \
  > "$work/corpus.log" 2>&1 || { tail "$work/corpus.log"; fail "tools/make-corpus"; }
echo "corpus in $((SECONDS - t0)) s"

t0=$SECONDS
rc=0
timeout 1200 "$run" --data "$work/corpus" --out "$work/run" --toy "${mode[@]}" > "$work/run.txt" 2>&1 || rc=$?
cat "$work/run.txt"
((rc == 0)) || fail "the recipe did not finish: exit $rc (124: not within 1200 s; see $work/run/logs/)"
echo "chain in $((SECONDS - t0)) s"

for s in "${stages[@]}"; do
  [[ -f $work/run/stages/$s.done ]] || fail "stage $s has no done marker"
done
if [[ $backend == slurm ]]; then
  # One job per stage, each printed with its log, and each stage's marker written inside that job.
  (($(grep -cE '^recola-paper: [a-z]+ +job [0-9]+ ' "$work/run.txt") == ${#stages[@]})) || fail "not one job id printed per stage"
  while IFS=$'\t' read -r s job log; do
    [[ $(jq -r .job "$work/run/stages/$s.done") == "$job" ]] || fail "stage $s: marker not written by job $job"
    [[ -s $log ]] || fail "stage $s: no log $log"
  done < "$work/run/jobs.tsv"
  grep -q -- "--dependency=afterok" "$SRC/recipes/recola-paper/run" || fail "no afterok dependencies"
fi

# Table III: a finite mean for every model x target x kind; fusion over the 2 seeds, with a std.
jq -e '[.rows[] | .[] | .[] | .mean | numbers | isinfinite or isnan | not] | (length == 12 and all)' \
  "$work/run/table3.json" > /dev/null || fail "table3.json lacks a finite CCC somewhere: $(jq -c .rows "$work/run/table3.json")"
jq -e '.rows.Fusion.valence.raw.n == 2 and .rows.Fusion.arousal.postprocessed.n == 2
       and (.rows.Fusion.valence.raw.std | numbers) and .seeds == [1, 2] and .bit_identical' \
  "$work/run/table3.json" > /dev/null || fail "table3.json: fusion not over 2 seeds, or the repro check failed"
for model in Audio Visual Fusion; do
  grep -qE "^\| $model \| -?[0-9]" "$work/run/table3.md" || fail "table3.md has no $model row"
done

# Running it again redoes nothing.
timeout 120 "$run" --data "$work/corpus" --out "$work/run" --toy "${mode[@]}" > "$work/again.txt" 2>&1 ||
  { cat "$work/again.txt"; fail "a second run failed"; }
(($(grep -c "done in an earlier run" "$work/again.txt") == ${#stages[@]})) || { cat "$work/again.txt"; fail "a second run redid stages"; }
if [[ $backend == slurm ]]; then
  # A job still in the queue whose stage wrote its marker (the last job leaving the queue just after
  # the chain finished) does not stop a new run; one whose stage did not write it does.
  held=$(sbatch --parsable --output=/dev/null --wrap "sleep 120") || fail "sbatch of a job that stays queued for the check"
  printf 'evaluate\t%s\t/dev/null\n' "$held" > "$work/run/jobs.tsv"
  timeout 120 "$run" --data "$work/corpus" --out "$work/run" --toy "${mode[@]}" > "$work/queued-done.txt" 2>&1 ||
    { cat "$work/queued-done.txt"; scancel "$held"; fail "a run was refused for a queued job whose stage is done"; }
  # (that run, submitting nothing, wrote an empty jobs.tsv)
  printf 'evaluate\t%s\t/dev/null\n' "$held" > "$work/run/jobs.tsv"
  mv "$work/run/stages/evaluate.done" "$work/evaluate.done"
  rc=0
  timeout 120 "$run" --data "$work/corpus" --out "$work/run" --toy "${mode[@]}" > "$work/queued-open.txt" 2>&1 || rc=$?
  mv "$work/evaluate.done" "$work/run/stages/evaluate.done"
  scancel "$held"
  ((rc != 0)) && grep -q "still queued or running ($held;" "$work/queued-open.txt" ||
    { cat "$work/queued-open.txt"; fail "a run went ahead while a job of a stage not done was queued"; }
fi

# A stage that fails stops the chain: here preprocessing, on a video that is not one.
bad=$work/bad
mkdir -p "$bad/recordings_video" "$bad/recordings_audio" "$bad/ratings_gold_standard"
cp -r "$work/corpus/ratings_gold_standard/." "$bad/ratings_gold_standard/"
cp "$work/corpus/recordings_audio/train_1.wav" "$bad/recordings_audio/"
head -c 4096 /dev/urandom > "$bad/recordings_video/train_1.mp4"
rm -f "$bad"/ratings_gold_standard/*/{train_2,dev_1,dev_2}.arff
rc=0
timeout 240 "$run" --data "$bad" --out "$work/failing" --toy "${mode[@]}" > "$work/failing.txt" 2>&1 || rc=$?
cat "$work/failing.txt"
((rc != 0)) || fail "a chain whose preprocessing fails must exit non-zero"
grep -q "stage 'preprocess' FAILED" "$work/failing.txt" || fail "no clear message naming the failed stage"
[[ -f $work/failing/stages/preprocess.failed ]] || fail "no failed marker for preprocess"
for s in "${stages[@]:1}"; do
  [[ ! -e $work/failing/stages/$s.start ]] || fail "stage $s started after preprocessing failed"
done
if [[ $backend == slurm ]]; then
  # The jobs after it are cancelled by SLURM (afterok, --kill-on-invalid-dep=yes), not left pending.
  cancelled() {
    local job
    for job in $(tail -n +2 "$work/failing/jobs.tsv" | cut -f2); do
      scontrol show job "$job" 2> /dev/null | grep -q "JobState=CANCELLED" || return 1
    done
  }
  wait_for 30 "the jobs after the failed stage to be cancelled" cancelled
fi
echo PASS

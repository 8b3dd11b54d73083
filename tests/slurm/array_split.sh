#!/usr/bin/env bash
# More trials than MaxArraySize: a cluster with MaxArraySize=2 gets 5 trials as 3 arrays, each held
# until its trials' statuses name their jobs, the later ones depending on the earlier (afterany),
# so that at most `throttle` trials run at once across them; all complete.
source "$(dirname "$0")/lib.sh"
AVF_LOCAL_MAX_ARRAY_SIZE=2 start_cluster
make_base_config "$work/base.ini" <<INI
[train]
stage = fusion
epochs = 2
batch-size = 4
INI
cat > "$work/spec.ini" <<INI
[sweep]
name = split
base = $work/base.ini
out = $work/sweep
[grid]
train.lr = 0.001, 0.002, 0.004, 0.008, 0.016
[resources]
throttle = 2
INI
"$AVF" sweep run "$work/spec.ini" --backend slurm
jq -e 'length == 3 and ([.[].trials | length] == [2, 2, 1])' "$work/sweep/submissions.json" > /dev/null ||
  fail "expected arrays of 2, 2 and 1 trials: $(cat "$work/sweep/submissions.json")"
second=$(jq -r '.[1].job_id' "$work/sweep/submissions.json")
first=$(jq -r '.[0].job_id' "$work/sweep/submissions.json")
scontrol show job "$second" | grep -q "Dependency=afterany:${first}" || fail "array $second does not depend on $first"
"$AVF" sweep run "$work/spec.ini" --backend slurm --wait --poll 2 --timeout 100
"$AVF" sweep status "$work/spec.ini" | grep -q "5 trials (5 done)" || fail "not every trial done"
(($(max_concurrent "$work"/sweep/trials/*/status.json) <= 2)) || fail "more than 2 trials ran at once"
echo PASS

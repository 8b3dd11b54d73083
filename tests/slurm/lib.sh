# Shared by the sweep and repro end-to-end tests (sourced). Gives each test its own work directory
# and, with start_cluster, its own local SLURM cluster (own state dir and ports), stopped on exit
# whatever happens. Every wait is bounded.
# Trials run the real `avf train --stage fusion` on a tiny feature set (tests/fixtures/make_tiny_features).
#   AVF  the avf executable    AVF_MAKE_FEATURES  make_tiny_features    AVF_SOURCE_DIR  the source tree
set -euo pipefail
: "${AVF:?AVF must name the avf executable}" "${AVF_SOURCE_DIR:?AVF_SOURCE_DIR must name the source tree}"
: "${AVF_MAKE_FEATURES:?AVF_MAKE_FEATURES must name tests/make_tiny_features}"
SRC=$AVF_SOURCE_DIR
work=$(mktemp -d "${TMPDIR:-/tmp}/avf-test-$(basename "$0" .sh)-XXXXXX")
echo "work directory: $work"
cluster=""

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  if [[ -n $cluster ]]; then
    "$SRC/slurm/local-cluster" stop "$cluster" || rc=1
  fi
  ((rc == 0)) && rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

start_cluster() {
  cluster=$work/cluster
  local t0=$SECONDS
  "$SRC/slurm/local-cluster" start "$cluster"
  echo "cluster up in $((SECONDS - t0)) s"
  export SLURM_CONF=$cluster/slurm.conf
}

# Tiny features and a base config of the fusion stage that trains on them in about a second:
# 12 training sequences, 16-d features, a 16-wide head, one thread per rank, no binding (trials
# share the machine).
make_base_config() {  # $1: config file to write; more INI lines on stdin are appended
  [[ -f $work/features/features.json ]] || "$AVF_MAKE_FEATURES" "$work/features"
  cat > "$1" <<INI
[data]
features = $work/features
reader-threads = 1
prefetch-batches = 1
[model]
feature-dim = 16
hidden = 16
[dist]
bind = none
[log]
progress = off
INI
  cat >> "$1"
}

# same_final_weights PREEMPTED REFERENCE: two run directories ended with identical weights
# (checkpoints/last/model.pt, sha256), as a preempted and resumed run must match an uninterrupted one.
same_final_weights() {
  local a b
  a=$(sha256sum < "$1/checkpoints/last/model.pt")
  b=$(sha256sum < "$2/checkpoints/last/model.pt")
  echo "preempted: $a"
  echo "reference: $b"
  [[ $a == "$b" ]] || fail "final weights differ from the uninterrupted run"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s until it succeeds.
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within $limit s"
    sleep 0.5
  done
}

state_of() { jq -r .state "$1/status.json" 2> /dev/null || echo none; }

# Best validation metric of a trial, from its own metrics file.
best_metric() { jq -s '[.[] | select(.kind == "validation") | .metric] | max' "$1/metrics.jsonl"; }

# The highest number of trials running at the same time, from their status files' start and end.
max_concurrent() {
  jq -s '[.[] | select(.start > 0) | [.start, 1], [.end, -1]] | sort_by(.[0], .[1])
         | reduce .[] as $e ({n: 0, max: 0}; .n += $e[1] | .max = ([.max, .n] | max)) | .max' "$@"
}

# A stand-in srun in $work/bin (put it first on PATH) for running slurm/train.sbatch as a plain
# script: it logs its arguments to $work/calls; the first $FAILED_LAUNCHES calls fail to launch the
# way srun does after a requeue ("task 0 launch failed", exit 0); the others drop srun's own options
# and run the real trainer, under $LAUNCHER when set (e.g. mpirun -np 2, which forwards signals to
# the ranks as srun does).
make_srun_standin() {
  mkdir -p "$work/bin"
  cat > "$work/bin/srun" <<SH
#!/bin/bash
echo "\$*" >> "$work/calls"
if (( \$(wc -l < "$work/calls") <= \${FAILED_LAUNCHES:-0} )); then
  echo "srun: error: task 0 launch failed: Unspecified error" >&2
  exit 0
fi
while [[ \$1 == --* ]]; do shift; done
exec \${LAUNCHER:-} "\$@"
SH
  chmod +x "$work/bin/srun"
}

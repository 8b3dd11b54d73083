#!/usr/bin/env bash
# The benchmarks run and report what they measured: `avf bench loader` (raw read and the loader at
# 1, 2, 4 threads, JSON rows with positive times; a clear error instead of a hang when the data is
# smaller than one batch), `mpirun -np 2 avf bench allreduce` (raw, reducer and the naive pattern),
# and tools/bench assembling a report with the machine and the targets (allreduce part only: fast).
# usage: bench.sh AVF DATA_DIR WORK_DIR SOURCE_DIR
set -euo pipefail
avf=$1 data=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
mpi=(mpirun --oversubscribe --bind-to none -np 2)
[[ $(id -u) == 0 ]] && mpi+=(--allow-run-as-root)

"$avf" bench loader --data.shards "$data/shards" --data.crop-size 28 --train.batch-size 2 --data.stride 32 \
  --batches 4 --json "$work/loader.json" --log.progress off
jq -e '[.rows[].what | sub(" \\([0-9]+ clips/s\\)"; "")] == ["raw face reads, 1 thread", "loader, 1 thread", "loader, 2 threads",
       "loader, 4 threads", "uint8 -> float clips, CPU"]' \
  "$work/loader.json" > /dev/null || fail "loader rows: $(jq -c '[.rows[].what]' "$work/loader.json")"
jq -e 'all(.rows[]; .seconds > 0 and .bytes > 0)' "$work/loader.json" > /dev/null || fail "loader times"
rc=0
out=$(timeout 60 "$avf" bench loader --data.shards "$data/shards" --train.batch-size 1000 2>&1) || rc=$?
((rc == 1)) || fail "too little data: exit code $rc (124 = hung), expected 1: $out"
grep -q "training sequences are fewer than one batch of 1000" <<< "$out" || fail "message: $out"

"${mpi[@]}" "$avf" bench allreduce --max-bytes 65536 --iters 2 --json "$work/allreduce.json" > "$work/allreduce.log"
jq -e '.ranks == 2 and ([.rows[].what] | index("raw MPI_Allreduce") != null and index("communicator all-reduce (sum)") != null and
       index("I3D params: naive 1 blocking/param") != null and index("I3D params: reducer") != null) and
       all(.rows[]; .seconds > 0)' "$work/allreduce.json" > /dev/null || fail "allreduce rows: $(cat "$work/allreduce.log")"

AVF_BUILD_DIR=$(dirname "$avf") "$src/tools/bench" --size small --parts allreduce --out "$work/suite" > "$work/suite.log"
for what in "## Machine" "## Targets" "all-reduce busbw / raw MPI_Allreduce" "## All-reduce (2 ranks)" "memcpy"; do
  grep -q "$what" "$work/suite/report.md" || fail "report lacks '$what'"
done
jq -e '.machine.cores > 0 and (.results.allreduce.rows | length) > 0' "$work/suite/results.json" > /dev/null
echo PASS

#!/usr/bin/env bash
# usage: failure.sh MPIRUN PROBE MODE REGEX — the job must fail (non-zero), within 30 s, printing REGEX.
set -u
mpirun=$1 probe=$2 mode=$3 regex=$4
start=$(date +%s)
out=$(timeout 60 $mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$probe" "$mode" 2>&1)
rc=$?
elapsed=$(( $(date +%s) - start ))
echo "$out"
echo "exit code $rc after ${elapsed}s"
[ "$rc" -ne 0 ] || { echo "FAIL: the job exited 0"; exit 1; }
[ "$rc" -ne 124 ] || { echo "FAIL: the job hung"; exit 1; }
[ "$elapsed" -le 30 ] || { echo "FAIL: took ${elapsed}s"; exit 1; }
echo "$out" | grep -Eq "$regex" || { echo "FAIL: output lacks /$regex/"; exit 1; }
echo "ok"

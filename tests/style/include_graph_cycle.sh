#!/usr/bin/env bash
# tools/include-graph --check must fail on a cycle between folders, naming the folders and the
# includes that close it, and pass once the cycle is gone: a tiny tree with core/base and dist.
set -euo pipefail
graph="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/core/base" "$work/dist"
printf '#pragma once\n' > "$work/core/base/log.h"
printf '#pragma once\n#include "core/base/log.h"\n' > "$work/dist/watchdog.h"
"$graph" --root "$work" --check || { echo "FAIL: an acyclic tree was reported as cyclic"; exit 1; }
# The injected cycle: the base includes a header of the layer above it.
printf '#pragma once\n#include "dist/watchdog.h"\n' > "$work/core/base/log.h"
if "$graph" --root "$work" --check 2> "$work/err"; then
  echo "FAIL: the cycle core/base <-> dist was not reported"; exit 1
fi
grep -q "include cycle between folders: core/base <-> dist" "$work/err" || { cat "$work/err"; echo "FAIL: cycle not named"; exit 1; }
grep -q "core/base/log.h -> dist/watchdog.h" "$work/err" || { cat "$work/err"; echo "FAIL: include not named"; exit 1; }
echo "ok: the injected cycle is reported and fails the check"

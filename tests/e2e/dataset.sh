#!/usr/bin/env bash
# Fixture of the e2e tests: a small generated corpus (real encoded video, espeak-ng speech, ARFF
# labels) preprocessed into shards by the real `avf preprocess`. Reused only when complete and made by
# this very avf binary and corpus generator (their sha256 in a stamp), so no test runs on the shards
# of an older build.
# usage: dataset.sh AVF DIR
set -euo pipefail
avf=$1 dir=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
# `avf` is a small launcher that execs avf-main (core/commands/launcher.cpp): the program is avf-main.
program=("$avf")
[ -f "$(dirname "$avf")/avf-main" ] && program+=("$(dirname "$avf")/avf-main")
stamp=$(cat "${program[@]}" "$root/tools/make-corpus" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$dir/shards/manifest.json" ] && [ "$(cat "$dir/stamp" 2> /dev/null)" = "$stamp" ]; then
  echo "dataset: reusing $dir (made by this avf binary)"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
"$root/tools/make-corpus" --output "$dir/corpus" --subjects 4 --seconds 12 --seed 7 --width 320 --height 240
"$avf" preprocess --layout avec2016 --input "$dir/corpus" --output "$dir/shards" --face-size 32 --progress off
echo "$stamp" > "$dir/stamp"

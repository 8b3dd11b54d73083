#!/usr/bin/env bash
# Fixture of the e2e tests: a small generated corpus (real encoded video, espeak-ng speech, ARFF
# labels) preprocessed into shards by the real `avf preprocess`. Reused when already complete.
# usage: dataset.sh AVF DIR
set -euo pipefail
avf=$1 dir=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -f "$dir/shards/manifest.json" ]; then echo "dataset: reusing $dir"; exit 0; fi
rm -rf "$dir"
mkdir -p "$dir"
"$root/tools/make-corpus" --output "$dir/corpus" --subjects 4 --seconds 12 --seed 7 --width 320 --height 240
"$avf" preprocess --layout avec2016 --input "$dir/corpus" --output "$dir/shards" --face-size 32 --progress off

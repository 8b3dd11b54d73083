#!/usr/bin/env bash
# `avf bench stream` on the fixture (tiny networks) reports, for visual (evaluate), audio (evaluate)
# and both (extract), a forward-only, a one-thread batch and an end-to-end row, each with positive
# frames/s equal to the printed ones, the end-to-end rows with video frames/s and the split of the
# pass (data, forward, rest), and the three ratios; tools/bench's stream part puts them into its report
# with the target row. Any of that reporting breaking fails the test.
# usage: bench_stream.sh AVF DATA_DIR WORK_DIR SOURCE_DIR
set -euo pipefail
avf=$1 data=$2 work=$3 src=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
tiny=(--model.width 0.0625 --model.audio-width-div 16 --data.crop-size 28 --train.batch-size 4 --log.progress off)

"$avf" bench stream --data.shards "$data/shards" "${tiny[@]}" --iters 1 --json "$work/stream.json" | tee "$work/stream.log"
json=$work/stream.json
want='["visual: forward only", "visual: batches, 1 thread", "visual: evaluate",
       "audio: forward only", "audio: batches, 1 thread", "audio: evaluate",
       "visual + audio: forward only", "visual + audio: batches, 1 thread", "visual + audio: extract"]'
jq -e --argjson want "$want" '[.rows[].what | sub(" \\([0-9]+ frames/s\\)$"; "")] == $want' "$json" > /dev/null ||
  fail "rows: $(jq -c '[.rows[].what]' "$json")"
jq -e 'all(.rows[]; .frames_per_s > 0 and .seconds > 0 and .bytes > 0 and .batch == 4)' "$json" > /dev/null ||
  fail "a row without frames/s, time, size or batch: $(jq -c .rows "$json")"
# The frames/s in each printed row are the JSON's.
jq -e 'all(.rows[]; (.what | capture("\\((?<n>[0-9]+) frames/s\\)$").n | tonumber) as $n | ($n - .frames_per_s | fabs) <= 1)' \
  "$json" > /dev/null || fail "printed frames/s differ from the JSON's"
jq -e '[.rows[] | select(.what | test(": (evaluate|extract) "))] | length == 3 and
       all(.[]; .video_frames_per_s > 0 and .forward_share > 0 and .data_share >= 0 and .rest_share >= 0 and
                (.data_share + .forward_share + .rest_share - 1 | fabs) < 1e-6)' "$json" > /dev/null ||
  fail "end-to-end rows lack video frames/s or the split"
jq -e '(.ratios | keys) == ["audio evaluate", "extract", "visual evaluate"] and all(.ratios[]; . > 0 and . < 10)' \
  "$json" > /dev/null || fail "ratios: $(jq -c .ratios "$json")"
[[ $(grep -c "/ forward only, .*: [0-9.]* (target >= 0.90)" "$work/stream.log") == 3 ]] || fail "printed ratio lines"

# --max-videos: both sides stream the same first videos (evaluate used to stream the whole partition
# against a forward-only side of the first few, a ratio of 1/3 on a corpus of 6 dev videos).
"$avf" bench stream --data.shards "$data/shards" "${tiny[@]}" --iters 1 --max-videos 1 --json "$work/one.json" > /dev/null
jq -e '[.rows[] | select(.what | test(": (evaluate|extract) ")) | .video_frames] == [300, 300, 300]' "$work/one.json" \
  > /dev/null || fail "--max-videos 1: video frames streamed $(jq -c '[.rows[] | .video_frames]' "$work/one.json")"

# The benchmark suite's stream part on the same shards: its section and the target row.
AVF_BUILD_DIR=$(dirname "$avf") "$src/tools/bench" --size small --parts stream --stream-models tiny \
  --shards "$data/shards" --out "$work/suite" > "$work/suite.log"
report=$work/suite/report.md
for what in "## Streaming: avf evaluate and avf extract vs forward only" "extract and evaluate / forward-only (tiny networks"; do
  grep -qF "$what" "$report" || fail "report lacks '$what'"
done
[[ $(grep -cE "^\| tiny \| (visual|audio|visual \+ audio) \| (evaluate|extract) \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9.]+ \|" "$report") == 3 ]] ||
  fail "report's streaming rows: $(grep "^| tiny" "$report")"
jq -e '.results.stream.tiny.ratios | length == 3' "$work/suite/results.json" > /dev/null || fail "results.json lacks the ratios"
echo PASS

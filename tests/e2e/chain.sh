#!/usr/bin/env bash
# The whole chain through the real commands on the generated corpus: visual training, extraction on 2
# ranks (frames/s per rank in features.json), fusion training on 2 ranks, evaluate (Table III, CSVs,
# plots), export, inspect, and predict on a new video file with its own audio stream (--attention).
# usage: chain.sh AVF DATA_DIR AUDIO_CHECKPOINT WORK_DIR MPIRUN
set -euo pipefail
avf=$1 data=$2 audio=$3 work=$4 mpirun=$5
mpi=("$mpirun" --allow-run-as-root --oversubscribe --bind-to none -np 2)
rm -rf "$work"
mkdir -p "$work"
common=(--log.progress off --train.patience 0 --data.stride 32 --train.lr 0.01)
# The audio fixture network is 1024/16 = 64 wide: the visual one matches (1024 x 0.0625).
"$avf" train --stage visual --data.shards "$data/shards" --model.width 0.0625 --data.crop-size 28 --train.batch-size 4 \
  --train.epochs 1 --train.out "$work/visual" "${common[@]}"
"${mpi[@]}" "$avf" extract --visual "$work/visual/checkpoints/best" --audio "$audio" --data.shards "$data/shards" \
  --output "$work/features" --log.progress off
"${mpi[@]}" "$avf" train --stage fusion --data.features "$work/features" --model.hidden 32 --train.batch-size 2 \
  --train.epochs 2 --train.out "$work/fusion" "${common[@]}" 2>&1 | tee "$work/fusion.log"
# Features at every offset past the sub-sequence grid: the fusion stage trains at the authors' stride 1
# on them, and names the --offsets a stride needs on the grid-only ones.
"${mpi[@]}" "$avf" extract --visual "$work/visual/checkpoints/best" --audio "$audio" --data.shards "$data/shards" \
  --output "$work/features16" --offsets 16 --log.progress off
stride1=(train --stage fusion --model.hidden 32 --train.batch-size 16 --train.epochs 1 --log.progress off
  --train.patience 0 --train.lr 0.01 --data.stride 1)
"$avf" "${stride1[@]}" --data.features "$work/features16" --train.out "$work/fusion-stride1" 2>&1 |
  tee "$work/fusion-stride1.log"
if "$avf" "${stride1[@]}" --data.features "$work/features" --train.out "$work/no-offsets" > "$work/no-offsets.log" 2>&1; then
  echo "FAIL: stride 1 on grid-only features should be refused" >&2
  exit 1
fi
grep -q -- "--offsets 16" "$work/no-offsets.log" || { cat "$work/no-offsets.log" >&2; exit 1; }
"$avf" evaluate --audio "$audio" --visual "$work/visual/checkpoints/best" --fusion "$work/fusion/checkpoints/best" \
  --data.shards "$data/shards" --data.features "$work/features" --output "$work/eval" | tee "$work/table.txt"
grep -q "post-processed" "$work/table.txt"
test -s "$work/eval/predictions/Fusion/dev_1.png"
test -s "$work/fusion/training.png"
"$avf" export "$work/fusion/checkpoints/best" --output "$work/fusion.h5"
h5ls "$work/fusion.h5" | grep -q "head.fc1.weight\|fc1.weight"
"$avf" inspect "$work/fusion/checkpoints/best" | grep -q "every file matches"
ffmpeg -loglevel error -y -i "$data/corpus/recordings_video/dev_1.mp4" -i "$data/corpus/recordings_audio/dev_1.wav" \
  -c:v copy -c:a aac "$work/new_video.mp4"
"$avf" predict "$work/new_video.mp4" --visual "$work/visual/checkpoints/best" --audio "$audio" \
  --fusion "$work/fusion/checkpoints/best" --output "$work/predict" --attention
/usr/bin/python3 - "$work" "$data" <<'PY'
import csv, json, sys
work = sys.argv[1]
rows = list(csv.DictReader(open(f"{work}/predict/new_video.csv")))
assert len(rows) == 300, len(rows)                       # 12 s at 25 fps
assert all(r["valence"] != "nan" and r["arousal"] != "nan" for r in rows)
attention = list(csv.DictReader(open(f"{work}/predict/attention.csv")))
assert {r["map"] for r in attention} >= {"stage1.audio", "stage1.visual"}
# Extraction reports every rank's frames/s and split, and the ranks' frames are every frame once.
throughput = json.load(open(f"{work}/features/features.json"))["throughput"]
frames = sum(v["n_frames"] for v in json.load(open(f"{sys.argv[2]}/shards/manifest.json"))["videos"])
assert [r["rank"] for r in throughput] == [0, 1], throughput
assert all(r["frames_per_s"] > 0 and r["forward_s"] > 0 for r in throughput), throughput
assert sum(r["frames"] for r in throughput) == frames, (throughput, frames)
evaluation = json.load(open(f"{work}/eval/evaluation.json"))
assert set(evaluation["models"]) == {"Audio", "Visual", "Fusion"}
assert evaluation["postprocess_fitted_on"] == "train" and evaluation["partition"] == "dev"
# --offsets: the grid's features unchanged, every offset 1..15 present, and stride 1 sees 16x the sequences.
import glob, h5py, numpy as np
def groups(path):
    out = {}
    for f in sorted(glob.glob(f"{path}/features-r*.h5")):
        with h5py.File(f) as h:
            for vid, g in h.items():
                out[vid] = {k: g[k][()] for k in ("audio", "visual", "sub_labels")}
                out[vid]["offsets"] = sorted(int(k.split("-")[1]) for k in g if k.startswith("offset-"))
    return out
plain, all16 = groups(f"{work}/features"), groups(f"{work}/features16")
assert plain.keys() == all16.keys()
for vid in plain:
    for k in ("audio", "visual", "sub_labels"):
        assert np.array_equal(plain[vid][k], all16[vid][k]), (vid, k)
    assert all16[vid]["offsets"] == list(range(1, 16)), all16[vid]["offsets"]
assert json.load(open(f"{work}/features16/features.json"))["offsets"] == list(range(16))
import re
def sequences(log):
    return int(re.search(r"stage fusion: (\d+) training sequences", open(log).read()).group(1))
s1, s32 = sequences(f"{work}/fusion-stride1.log"), sequences(f"{work}/fusion.log")
assert 25 * s32 <= s1 <= 32 * s32, (s1, s32)  # every frame vs every 32nd, fewer at the videos' ends
print("stride 1:", s1, "fusion training sequences, stride 32:", s32)
print("chain ok:", len(rows), "frames predicted,", len(attention), "attention weights")
PY

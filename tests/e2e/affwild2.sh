#!/usr/bin/env bash
# Aff-Wild2 (ABAW) through the chain: a generated corpus in its layout (tools/make-corpus --layout
# affwild2: 30 and 25 fps videos with the audio in the video file, -5 lines, cropped_aligned faces with
# gaps, a <name>_left/_right pair) -> avf preprocess --layout affwild2 -> avf train --stage visual (10
# short epochs: validation CCC of valence, which the faces show, must pass 0.4; 0.71 measured) -> avf
# evaluate on the Validation_Set videos (partition dev, post-processing fitted on train). About 30 s.
# usage: affwild2.sh AVF SOURCE_DIR WORK_DIR
set -euo pipefail
avf=$1 root=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$root/tools/make-corpus" --layout affwild2 --output "$work/corpus" --videos 6 --seconds 10 --seed 3 \
  --width 192 --height 144 --face-size 64
"$avf" preprocess --layout affwild2 --input "$work/corpus" --output "$work/shards" --face-size 32 --progress off
"$avf" inspect "$work/shards" --verify | tee "$work/inspect.txt"
"$avf" train --stage visual --data.shards "$work/shards" --model.width 0.0625 --data.crop-size 28 \
  --train.batch-size 4 --train.epochs 10 --train.lr 0.01 --data.stride 16 --train.patience 0 \
  --train.out "$work/visual" --log.progress off
"$avf" evaluate --visual "$work/visual/checkpoints/best" --data.shards "$work/shards" --output "$work/eval" |
  tee "$work/table.txt"
/usr/bin/python3 - "$work" <<'PY'
import json, math, sys
work = sys.argv[1]
manifest = json.load(open(f"{work}/shards/manifest.json"))
videos = {v["id"]: v for v in manifest["videos"]}
assert manifest["params"]["layout"] == "affwild2" and manifest["targets"] == ["valence", "arousal"], manifest["params"]
assert not manifest["failed"], manifest["failed"]
assert len(videos) == 8, sorted(videos)                  # 6 single videos and the two people of the pair
assert {"video7_left", "video7_right"} <= set(videos)
assert sorted(v["id"] for v in videos.values() if v["partition"] == "dev") == ["4-25-192x144", "5-30-192x144",
                                                                                 "6-25-192x144"]
assert all(v["n_frames"] == 250 for v in videos.values()), videos   # 10 s at 25 fps, from 30 and 25 fps sources
inspect = open(f"{work}/inspect.txt").read()
assert "verify      ok" in inspect, inspect
assert "frames missing (NaN)" in inspect and "valence: 0 of" not in inspect, inspect   # the -5 lines
rows = [json.loads(l) for l in open(f"{work}/visual/metrics.jsonl")]
train = [r["loss"] for r in rows if r["kind"] == "train"]
valid = [r["ccc"] for r in rows if r["kind"] == "validation"]
assert len(train) == 10 and all(math.isfinite(x) for x in train), train
assert valid and all(math.isfinite(c[t]) for c in valid for t in ("valence", "arousal")), valid
assert max(c["valence"] for c in valid) > 0.4, valid     # valence is in the face, also behind -5 gaps
evaluation = json.load(open(f"{work}/eval/evaluation.json"))
assert evaluation["partition"] == "dev" and evaluation["postprocess_fitted_on"] == "train", evaluation
print("affwild2 chain ok: train losses", ["%.3f" % x for x in train], "validation CCC of valence",
      ["%.3f" % c["valence"] for c in valid])
PY
grep -q "post-processed" "$work/table.txt"

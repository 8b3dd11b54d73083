#!/usr/bin/python3
"""tools/make-corpus --lead and --solo (the fusion study's second corpus) do what they say, checked on
the rendered pixels and the written labels:
  --lead S: the face's colour (red minus blue, which valence drives) follows the valence label S
            seconds ahead better than the label at the same frame, and the cue file says so;
  --solo F: in audio-only stretches the face is neutral (its red minus blue does not move with
            valence), in face-only ones the voice's cues are neutral, both kinds occur, and without
            --lead/--solo the corpus has no cue file (the default corpus is unchanged).
usage: test_make_corpus_cues.py SOURCE_DIR WORK_DIR"""
import csv
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np

src, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)


def make(name, *extra):
    out = os.path.join(work, name)
    subprocess.run([os.path.join(src, "tools/make-corpus"), "--output", out, "--subjects", "2", "--seconds", "24",
                    "--seed", "5", "--hidden", "0", "--silent", "0", *extra], check=True, stdout=subprocess.DEVNULL)
    return out


def face_red_minus_blue(corpus, sid):
    rows = list(csv.DictReader(open(f"{corpus}/rendered/{sid}.csv")))
    cap, out = cv2.VideoCapture(f"{corpus}/recordings_video/{sid}.mp4"), []
    for r in rows:
        ok, frame = cap.read()
        assert ok
        x, y, w, h = (int(float(r[k])) for k in ("face_x", "face_y", "face_w", "face_h"))
        patch = frame[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4].astype(float)
        out.append(patch[..., 2].mean() - patch[..., 0].mean())   # BGR
    return np.array(out)


def labels(corpus, sid, target):
    lines = open(f"{corpus}/ratings_gold_standard/{target}/{sid}.arff").read().split("@data")[1].split()
    return np.array([float(l.split(",")[2]) for l in lines])


fails = []
lead = make("lead", "--lead", "0.8")
plain = make("plain")
if os.path.exists(f"{plain}/rendered/train_1.cues.csv"):
    fails.append("a cue file without --lead/--solo")
for sid in ("train_1", "dev_1"):
    rb, val = face_red_minus_blue(lead, sid), labels(lead, sid, "valence")
    k = 20  # 0.8 s at 25 fps
    same, ahead = np.corrcoef(rb[:-k], val[:-k])[0, 1], np.corrcoef(rb[:-k], val[k:])[0, 1]
    print(f"--lead 0.8, {sid}: face colour vs valence at the same frame r={same:.3f}, {k} frames ahead r={ahead:.3f}")
    if not ahead > same + 0.02:
        fails.append(f"{sid}: the face does not lead the label")
    cues = list(csv.DictReader(open(f"{lead}/rendered/{sid}.cues.csv")))
    fv = np.array([float(c["face_valence"]) for c in cues])
    if not np.allclose(fv[:-k], val[k:], atol=1e-5):
        fails.append(f"{sid}: cue file's face_valence is not the label {k} frames ahead")

solo = make("solo", "--solo", "1")
for sid in ("train_1", "dev_1"):
    rb, val = face_red_minus_blue(solo, sid), labels(solo, sid, "valence")
    cues = list(csv.DictReader(open(f"{solo}/rendered/{sid}.cues.csv")))
    kind = np.array([c["solo"] for c in cues])
    vv = np.array([float(c["voice_valence"]) for c in cues])
    for k in ("audio", "visual"):
        if not (kind == k).any():
            fails.append(f"{sid}: no {k}-only stretch with --solo 1")
    a, v = kind == "audio", kind == "visual"
    r_audio_only = np.corrcoef(rb[a], val[a])[0, 1] if val[a].std() > 0 else 0.0
    r_face_only = np.corrcoef(rb[v], val[v])[0, 1]
    print(f"--solo 1, {sid}: face colour vs valence in audio-only stretches r={r_audio_only:.3f} "
          f"(face colour std {rb[a].std():.2f}), in face-only stretches r={r_face_only:.3f} (std {rb[v].std():.2f})")
    if not (r_face_only > 0.8 and rb[a].std() < 0.3 * rb[v].std()):
        fails.append(f"{sid}: the face is not neutral in audio-only stretches")
    if np.abs(vv[v]).max() > 0 or np.abs(vv[a]).max() == 0:
        fails.append(f"{sid}: voice cues not neutral in face-only stretches")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)

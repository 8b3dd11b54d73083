#!/usr/bin/python3
"""tools/fusion-study on a small synthetic feature set (the `avf extract` layout): it writes its table,
its plot and per-epoch diagnostics, and the diagnostics mean what they say: uniform maps have entropy
exactly 1, learned ones less; concat has no W gradient, cross-attention a non-zero one; the tanh-free
variant differs from the tanh one.
usage: test_fusion_study.py SOURCE_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

src, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(f"{work}/features")
rng = np.random.default_rng(3)
with h5py.File(f"{work}/features/features-r00000.h5", "w") as f:
    for vid in ("train_1", "train_2", "dev_1"):
        y = np.repeat(rng.uniform(-0.8, 0.8, (8, 2)), 5, 0)                 # 40 sub-sequences, labels in blocks
        g = f.create_group(vid)
        g["audio"] = np.maximum(0, y[:, [1]] * 2 + rng.normal(0, 0.5, (40, 16))).astype(np.float32)
        g["visual"] = np.maximum(0, y[:, [0]] * 2 + rng.normal(0, 0.5, (40, 16))).astype(np.float32)
        g["sub_labels"] = y.astype(np.float32)
out = f"{work}/study"
subprocess.run([f"{src}/tools/fusion-study", f"{work}/features", "--out", out, "--seeds", "2", "--epochs", "4",
                "--variants", "concat", "ca", "ca-uniform", "ca-notanh"], check=True)
r = json.load(open(f"{out}/study.json"))
s = r["summary"]
fails = []
for f in ("study.md", "study.png"):
    if not os.path.getsize(f"{out}/{f}"):
        fails.append(f"empty {f}")
if abs(s["ca-uniform"]["entropy_audio"][0] - 1) > 1e-6:
    fails.append(f"uniform maps: entropy {s['ca-uniform']['entropy_audio'][0]}, expected 1")
if not 0 < s["ca"]["entropy_audio"][0] < 0.999:
    fails.append(f"learned maps: entropy {s['ca']['entropy_audio'][0]}, expected in (0, 1)")
if s["concat"]["grad_W_1"] != 0 or not s["ca"]["grad_W_1"] > 0:
    fails.append(f"grad W: concat {s['concat']['grad_W_1']}, ca {s['ca']['grad_W_1']}")
if s["ca"]["mean"][0] == s["ca-notanh"]["mean"][0]:
    fails.append("ca and ca-notanh gave the same CCC")
for run in r["runs"]["ca"]:
    if len(run["history"]) != 4 or not all(-1 <= h["mean"] <= 1 for h in run["history"]):
        fails.append("per-epoch history malformed")
for f in fails:
    print("FAIL:", f)
print("ok" if not fails else "")
sys.exit(1 if fails else 0)

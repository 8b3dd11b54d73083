#!/usr/bin/python3
"""`avf preprocess --audio-frontend authors` against an independent numpy reference.

    test_authors_frontend.py AVF WORKDIR

Builds a tiny `faces`-layout corpus (PNG face crops, a 16 kHz WAV: harmonics, noise and an exactly
silent stretch, a label CSV), preprocesses it with the authors' front-end and with the default, and
checks:
  - the authors' shard: spectrogram [N*4, 128], attribute spectrogram_rows_per_frame = 4, and the
    manifest's params naming the front-end; every value within 1e-4 of the reference below;
  - the reference itself against torchaudio.transforms.MelSpectrogram when torchaudio is importable
    (python3-torchaudio), so the reference is what the authors' code computes;
  - the default is still the paper's: [N, 129], no rows attribute, no audio_frontend in the params;
  - the audio network trains on the authors' shards (one step of `avf train --stage audio`: the
    loader's windows of 128 rows of 10 ms and the 128 mel columns through Table I's network).

The reference is written from torchaudio's documented MelSpectrogram (the authors' settings: n_fft
1024, win_length 400, hop_length 160, n_mels 128, normalized=True, power 2; defaults center=True,
pad_mode="reflect", Hann window (periodic), f_min 0, f_max sr/2, mel_scale="htk", norm=None), then
the authors' zeros -> 1e-19 and log2, in float64 numpy; it shares no code with avf.
"""
import json
import os
import shutil
import subprocess
import sys
import wave

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: {e} (Debian: apt-get install python3-numpy python3-h5py)")
    sys.exit(77)

SR, FPS, HOP, WIN, N_FFT, N_MELS = 16000, 25, 160, 400, 1024, 128
TOLERANCE = 1e-4


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def reference_log_mel(x):
    """torchaudio MelSpectrogram(sample_rate=16000, n_fft=1024, win_length=400, hop_length=160,
    n_mels=128, normalized=True) on the whole signal, then x[x == 0] = 1e-19 and log2.
    Returns [frames, 128] with frames = len(x) // 160 + 1."""
    x = np.asarray(x, dtype=np.float64)
    padded = np.pad(x, N_FFT // 2, mode="reflect")  # center=True, pad_mode="reflect"
    n = 1 + (len(padded) - N_FFT) // HOP
    frames = np.stack([padded[m * HOP:m * HOP + N_FFT] for m in range(n)])
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)  # periodic, as torch.hann_window
    window = np.zeros(N_FFT)
    left = (N_FFT - WIN) // 2  # torch.stft centres a shorter window in the frame
    window[left:left + WIN] = hann
    spec = np.fft.rfft(frames * window, N_FFT, axis=1)
    spec = spec / np.sqrt(np.sum(hann ** 2))  # normalized=True: by the window's L2 norm
    power = np.abs(spec) ** 2
    freqs = np.linspace(0, SR // 2, N_FFT // 2 + 1)
    f_pts = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2), N_MELS + 2))
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))  # [513, 128], norm=None
    mel = power @ fb
    mel[mel == 0] = 1e-19
    return np.log2(mel)


def check_against_torchaudio(x, reference):
    try:
        import torch
        import torchaudio
    except ImportError:
        print("torchaudio not importable: the reference is checked against avf only")
        return True
    t = torchaudio.transforms.MelSpectrogram(sample_rate=SR, n_fft=N_FFT, win_length=WIN, hop_length=HOP,
                                             n_mels=N_MELS, normalized=True, power=2.0).double()
    mel = t(torch.tensor(x, dtype=torch.float64)).T.numpy()  # [frames, mels]
    mel[mel == 0] = 1e-19
    diff = np.abs(np.log2(mel) - reference).max()
    print(f"numpy reference vs torchaudio {torchaudio.__version__}: max abs diff {diff:.3g}")
    # torchaudio builds its mel filterbank in float32, hence a looser bound than avf's 1e-4 here.
    return diff <= 1e-3


def write_png(path, image):
    import zlib, struct
    h, w, _ = image.shape
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_corpus(root, ids, n_frames, rng):
    """Faces layout: faces/<id>/NNNN.png, audio/<id>.wav (int16, so avf decodes the same samples),
    labels/<id>.csv. Returns {id: samples as float}."""
    shutil.rmtree(root, ignore_errors=True)
    for d in ("faces", "audio", "labels"):
        os.makedirs(os.path.join(root, d))
    signals = {}
    n = n_frames * SR // FPS
    t = np.arange(n) / SR
    for k, vid in enumerate(ids):
        os.makedirs(os.path.join(root, "faces", vid))
        for i in range(n_frames):
            write_png(os.path.join(root, "faces", vid, f"{i:04d}.png"),
                      rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
        pitch = 120 + 40 * np.sin(2 * np.pi * 0.5 * t) + 30 * k
        phase = 2 * np.pi * np.cumsum(pitch) / SR
        voice = sum(0.3 / h * np.sin(h * phase) for h in range(1, 12)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
        x = voice + 0.01 * rng.standard_normal(n)
        x[int(1.0 * SR):int(1.5 * SR)] = 0.0  # digital silence: the log of zero power
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
        with wave.open(os.path.join(root, "audio", vid + ".wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm.tobytes())
        signals[vid] = pcm.astype(np.float64) / 32768.0
        with open(os.path.join(root, "labels", vid + ".csv"), "w") as f:
            f.write("time,valence\n")
            for i in range(n_frames):
                f.write(f"{i / FPS:.2f},{np.sin(i / 20.0):.4f}\n")
    return signals


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout)
        sys.exit(f"FAIL: exit {r.returncode}")
    return r.stdout


def read_spectrograms(shards):
    out = {}
    with open(os.path.join(shards, "manifest.json")) as f:
        manifest = json.load(f)
    for name in sorted(os.listdir(shards)):
        if name.endswith(".h5"):
            with h5py.File(os.path.join(shards, name)) as f:
                for vid in f:
                    out[vid] = (f[vid]["spectrogram"][()], dict(f[vid].attrs))
    return manifest, out


def main():
    avf, work = sys.argv[1:3]
    rng = np.random.default_rng(7)
    ids, n_frames = ["train_1", "dev_1"], 150
    corpus = os.path.join(work, "corpus")
    signals = make_corpus(corpus, ids, n_frames, rng)
    ok = True

    # The reference is the authors' torchaudio computation.
    ok = check_against_torchaudio(signals[ids[0]], reference_log_mel(signals[ids[0]])) and ok

    authors = os.path.join(work, "shards-authors")
    shutil.rmtree(authors, ignore_errors=True)
    run([avf, "preprocess", "--layout", "faces", "--input", corpus, "--output", authors, "--face-size", "16",
         "--audio-frontend", "authors", "--progress", "off"])
    manifest, videos = read_spectrograms(authors)
    params = manifest["params"]
    if params.get("audio_frontend") != "authors" or params.get("freq_bins") != 128 or params.get("rows_per_frame") != 4:
        print(f"FAIL: manifest params do not record the authors' front-end: {params}")
        ok = False
    for vid in ids:
        spec, attrs = videos[vid]
        if spec.shape != (n_frames * 4, N_MELS) or attrs.get("spectrogram_rows_per_frame") != 4:
            print(f"FAIL: {vid}: spectrogram {spec.shape}, attrs {attrs}; expected ({n_frames * 4}, {N_MELS}), 4 rows per frame")
            ok = False
            continue
        reference = reference_log_mel(signals[vid])[:n_frames * 4]
        diff = np.abs(spec - reference).max()
        print(f"{vid}: authors' front-end vs numpy reference: max abs diff {diff:.3g} over {spec.size} values "
              f"(range {reference.min():.1f} .. {reference.max():.1f})")
        ok = ok and diff <= TOLERANCE

    paper = os.path.join(work, "shards-paper")
    shutil.rmtree(paper, ignore_errors=True)
    run([avf, "preprocess", "--layout", "faces", "--input", corpus, "--output", paper, "--face-size", "16",
         "--progress", "off"])
    manifest, videos = read_spectrograms(paper)
    spec, attrs = videos[ids[0]]
    if spec.shape != (n_frames, 129) or "spectrogram_rows_per_frame" in attrs or "audio_frontend" in manifest["params"]:
        print(f"FAIL: the default front-end changed: {spec.shape}, {attrs}, {manifest['params']}")
        ok = False

    # One training step of the audio network on the authors' shards.
    out = run([avf, "train", "--train.stage", "audio", "--data.shards", authors, "--train.out", os.path.join(work, "train"),
               "--data.targets", "valence", "--data.sequence-frames", "32", "--data.stride", "32",
               "--model.audio-width-div", "16", "--train.batch-size", "2", "--train.max-steps", "1",
               "--train.epochs", "1", "--log.progress", "off", "--train.threads", "1", "--dist.bind", "none"])
    print(out[-600:])

    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

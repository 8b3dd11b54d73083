#!/usr/bin/python3
"""The PyTorch peer of `avf train`: the same networks, batch shapes, loss and optimizer, trained with
torch.nn.parallel.DistributedDataParallel over gloo, so avf's step time can be quoted as a ratio to
what a user would run instead.
(Over 400 lines: the three networks of the paper rewritten in PyTorch, kept in one file so that the
peer is one command beside `avf bench`, and so that they read side by side with core/models/.)

  /usr/bin/python3 tools/bench_peer.py --stage visual|audio|fusion --ranks 1|2 [--steps 20] [--warmup 3]
      [--batch-size 8] [--width 0.125] [--audio-width-div 16] [--crop-size 28] [--feature-dim 64]
      [--hidden 64] [--fusion cross-attention] [--threads 1] [--json out.json]

What one rank does per step, as core/training/trainer.cpp does with accumulate 1 (its config defaults otherwise:
SGD lr 1e-3, momentum 0.9, weight decay 5e-4, CCC loss, deterministic algorithms, dropout per rank):
  visual  I3D (core/models/i3d.cpp) on B x L clips of [3, S, crop, crop]
  audio   the Table I network (core/models/audio_net.cpp) on B x L windows of [1, 128, 129]
  fusion  a fusion head (core/models/fusion*.cpp) on audio and visual features [B, L, feature-dim]
with B = --batch-size sequences per rank and L = sequence-frames / subsequence-frames (128 / 16 = 8).
The batch is random data made once before timing: data loading is not measured. Times are the
slowest rank's per step (a step ends when its all-reduce does); the table gives their medians.
Uses only Debian's python3-torch; fetches nothing.
"""
import argparse
import json
import math
import os
import resource
import socket
import statistics
import sys
import time
from collections import OrderedDict

try:
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel
except ImportError as e:
    sys.exit(f"bench_peer: needs PyTorch ({e}): apt-get install python3-torch, and run it with /usr/bin/python3")

# core/base/config.h defaults the benchmark does not vary.
N_TARGETS = 2  # data.targets = valence, arousal
AUDIO_WINDOW, FREQ_BINS = 128, 129  # data.audio-window rows x the shards' frequency bins (Table I input)
VISUAL_DROPOUT, AUDIO_DROPOUT, FUSION_DROPOUT = 0.8, 0.5, 0.5
TEMPERATURE = 1.0
LR, MOMENTUM, WEIGHT_DECAY = 1e-3, 0.9, 5e-4
FUSIONS = ("cross-attention", "cross-attention-2stage", "concat", "self-attention", "lstm")


# ---- Visual network: core/models/i3d.cpp ----

def pad_same(x, kernel, stride, value):
    """TensorFlow SAME padding of [B, C, T, H, W]: output ceil(in / stride), the odd element at the end."""
    pad = []
    for d in (2, 1, 0):  # F.pad takes (begin, end) pairs starting from the last dimension
        size = x.shape[2 + d]
        out = -(-size // stride[d])
        total = max((out - 1) * stride[d] + kernel[d] - size, 0)
        pad += [total // 2, total - total // 2]
    return F.pad(x, pad, value=value) if any(pad) else x


def max_pool_same(x, kernel, stride):
    # -inf padding keeps the border out of the max, as TensorFlow's SAME pooling does.
    return F.max_pool3d(pad_same(x, kernel, stride, -math.inf), kernel, stride)


class Unit3D(nn.Module):
    """Conv3d (no bias) -> BatchNorm (eps 1e-3) -> ReLU, with SAME padding."""

    def __init__(self, cin, cout, kernel, stride=(1, 1, 1)):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv3d(cin, cout, kernel, stride, bias=False)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(pad_same(x, self.kernel, self.stride, 0.0))))


class Inception(nn.Module):
    """1x1x1 | 1x1x1 -> 3x3x3 | 1x1x1 -> 3x3x3 | max pool 3x3x3 -> 1x1x1, concatenated."""

    def __init__(self, cin, out):  # out: channels of b0, b1a, b1b, b2a, b2b, b3b
        super().__init__()
        self.b0 = Unit3D(cin, out[0], (1, 1, 1))
        self.b1a = Unit3D(cin, out[1], (1, 1, 1))
        self.b1b = Unit3D(out[1], out[2], (3, 3, 3))
        self.b2a = Unit3D(cin, out[3], (1, 1, 1))
        self.b2b = Unit3D(out[3], out[4], (3, 3, 3))
        self.b3b = Unit3D(cin, out[5], (1, 1, 1))
        self.out_channels = out[0] + out[2] + out[4] + out[5]

    def forward(self, x):
        pooled = max_pool_same(x, (3, 3, 3), (1, 1, 1))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(pooled)], 1)


class I3D(nn.Module):
    def __init__(self, n_targets, width, dropout):
        super().__init__()

        def c(channels):  # std::llround rounds halves away from zero; Python's round() would not
            return max(1, math.floor(channels * width + 0.5))

        def mixed(cin, out):
            return Inception(cin, [c(o) for o in out])

        # Channel counts of the published Inception-v1 / I3D, module names as in the C++ model.
        self.Conv3d_1a_7x7 = Unit3D(3, c(64), (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(c(64), c(64), (1, 1, 1))
        self.Conv3d_2c_3x3 = Unit3D(c(64), c(192), (3, 3, 3))
        self.Mixed_3b = mixed(c(192), (64, 96, 128, 16, 32, 32))
        self.Mixed_3c = mixed(self.Mixed_3b.out_channels, (128, 128, 192, 32, 96, 64))
        self.Mixed_4b = mixed(self.Mixed_3c.out_channels, (192, 96, 208, 16, 48, 64))
        self.Mixed_4c = mixed(self.Mixed_4b.out_channels, (160, 112, 224, 24, 64, 64))
        self.Mixed_4d = mixed(self.Mixed_4c.out_channels, (128, 128, 256, 24, 64, 64))
        self.Mixed_4e = mixed(self.Mixed_4d.out_channels, (112, 144, 288, 32, 64, 64))
        self.Mixed_4f = mixed(self.Mixed_4e.out_channels, (256, 160, 320, 32, 128, 128))
        self.Mixed_5b = mixed(self.Mixed_4f.out_channels, (256, 160, 320, 32, 128, 128))
        self.Mixed_5c = mixed(self.Mixed_5b.out_channels, (384, 192, 384, 48, 128, 128))
        self.dropout = nn.Dropout(dropout)
        self.logits = nn.Linear(self.Mixed_5c.out_channels, n_targets)

    def forward(self, clip):
        x = self.Conv3d_1a_7x7(clip)
        x = max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        x = max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.Mixed_3c(self.Mixed_3b(x))
        x = max_pool_same(x, (3, 3, 3), (2, 2, 2))
        x = self.Mixed_4f(self.Mixed_4e(self.Mixed_4d(self.Mixed_4c(self.Mixed_4b(x)))))
        x = max_pool_same(x, (2, 2, 2), (2, 2, 2))
        feature = self.Mixed_5c(self.Mixed_5b(x)).mean((2, 3, 4))
        return feature, self.logits(self.dropout(feature))


# ---- Audio network: core/models/audio_net.cpp ----

def audio_block(cin, convs, pool):
    """convN -> bnN -> reluN per (out, kernel, stride, padding), then the pool; names as in the C++ model."""
    layers = OrderedDict()
    for i, (out, kernel, stride, padding) in enumerate(convs, 1):
        layers[f"conv{i}"] = nn.Conv2d(cin, out, kernel, stride, padding, bias=False)
        layers[f"bn{i}"] = nn.BatchNorm2d(out)  # LibTorch's default eps 1e-5, as the C++ model leaves it
        layers[f"relu{i}"] = nn.ReLU()
        cin = out
    layers["pool"] = pool
    return nn.Sequential(layers)


class AudioNet(nn.Module):
    def __init__(self, n_targets, width_div, dropout):
        super().__init__()

        def c(channels):
            return max(1, channels // width_div)

        self.block1 = audio_block(1, [(c(64), 5, (1, 2), 0)], nn.MaxPool2d(4, 4))
        self.block2 = audio_block(c(64), [(c(128), 5, (1, 2), 2), (c(256), 3, 1, 1)], nn.MaxPool2d(2, 2))
        self.block3 = audio_block(c(256), [(c(512), 5, 1, 1), (c(1024), 3, 1, 1)], nn.AvgPool2d((13, 2), 1))
        self.fc4 = nn.Linear(c(1024), c(256))
        self.fc5 = nn.Linear(c(256), n_targets)
        self.dropout = nn.Dropout(dropout)
        for m in self.modules():  # He-scaled normals, as the C++ model initialises
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, 0, "fan_in", "relu")
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, spectrogram):
        feature = self.block3(self.block2(self.block1(spectrogram))).flatten(1)
        return feature, self.dropout(self.fc5(torch.sigmoid(self.fc4(feature))))


# ---- Fusion heads: core/models/fusion.cpp, fusion_cross_attention.cpp, fusion_baselines.cpp ----

class PredictionHead(nn.Module):
    def __init__(self, cin, hidden, n_targets, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(cin, hidden)
        self.fc2 = nn.Linear(hidden, n_targets)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.dropout(x))))


def column_softmax(z, temperature):
    return torch.softmax(z / temperature, 1)  # every column of Z [B, L, L] sums to 1 (equation 2)


def attend(x, weights):
    return torch.matmul(weights.transpose(1, 2), x)  # (X A)^T = A^T X^T for X^T given as [B, L, K]


class CrossAttention(nn.Module):
    def __init__(self, feature_dim, temperature):
        super().__init__()
        self.temperature = temperature
        self.W = nn.Parameter(nn.init.xavier_normal_(torch.empty(feature_dim, feature_dim)))

    def forward(self, audio, visual):
        z = torch.matmul(torch.matmul(audio, self.W), visual.transpose(1, 2))  # equation 1
        a_a, a_v = column_softmax(z, self.temperature), column_softmax(z.transpose(1, 2), self.temperature)
        return torch.tanh(audio + attend(audio, a_a)), torch.tanh(visual + attend(visual, a_v))


class CrossAttentionFusion(nn.Module):
    def __init__(self, feature_dim, n_targets, stages, temperature, hidden, dropout):
        super().__init__()
        self.n_stages = stages
        for s in range(1, stages + 1):  # stage1, stage2: the C++ parameter names
            self.add_module(f"stage{s}", CrossAttention(feature_dim, temperature))
        self.head = PredictionHead(2 * feature_dim, hidden, n_targets, dropout)

    def forward(self, audio, visual):
        for s in range(1, self.n_stages + 1):
            audio, visual = getattr(self, f"stage{s}")(audio, visual)
        return self.head(torch.cat([visual, audio], -1))


class ConcatFusion(nn.Module):
    def __init__(self, feature_dim, n_targets, hidden, dropout):
        super().__init__()
        self.head = PredictionHead(2 * feature_dim, hidden, n_targets, dropout)

    def forward(self, audio, visual):
        return self.head(torch.cat([visual, audio], -1))


class SelfAttentionFusion(nn.Module):
    def __init__(self, feature_dim, n_targets, temperature, hidden, dropout):
        super().__init__()
        self.temperature = temperature
        self.W = nn.Parameter(nn.init.xavier_normal_(torch.empty(2 * feature_dim, 2 * feature_dim)))
        self.head = PredictionHead(2 * feature_dim, hidden, n_targets, dropout)

    def forward(self, audio, visual):
        x = torch.cat([visual, audio], -1)
        a = column_softmax(torch.matmul(torch.matmul(x, self.W), x.transpose(1, 2)), self.temperature)
        return self.head(torch.tanh(x + attend(x, a)))


class LstmFusion(nn.Module):
    def __init__(self, feature_dim, n_targets, hidden, dropout):
        super().__init__()
        self.lstm = nn.LSTM(2 * feature_dim, hidden, batch_first=True)
        self.head = PredictionHead(hidden, hidden, n_targets, dropout)

    def forward(self, audio, visual):
        return self.head(self.lstm(torch.cat([visual, audio], -1))[0])


def make_fusion(name, feature_dim, hidden):
    if name.startswith("cross-attention"):
        stages = 2 if name == "cross-attention-2stage" else 1
        return CrossAttentionFusion(feature_dim, N_TARGETS, stages, TEMPERATURE, hidden, FUSION_DROPOUT)
    if name == "concat":
        return ConcatFusion(feature_dim, N_TARGETS, hidden, FUSION_DROPOUT)
    if name == "self-attention":
        return SelfAttentionFusion(feature_dim, N_TARGETS, TEMPERATURE, hidden, FUSION_DROPOUT)
    return LstmFusion(feature_dim, N_TARGETS, hidden, FUSION_DROPOUT)


# ---- One stage: network, batch and forward, as core/models/stage_model.cpp and core/data/stage_data.cpp ----

def make_network(args):
    if args.stage == "visual":
        return I3D(N_TARGETS, args.width, VISUAL_DROPOUT)
    if args.stage == "audio":
        return AudioNet(N_TARGETS, args.audio_width_div, AUDIO_DROPOUT)
    return make_fusion(args.fusion, args.feature_dim, args.hidden)


def subsequences(args):
    return args.sequence_frames // args.subsequence_frames


def make_batch(args):
    """(inputs, labels) of one rank's batch of B sequences, in the layout StageData gives the trainer."""
    B, L = args.batch_size, subsequences(args)
    labels = torch.rand(B, L, N_TARGETS) * 2 - 1  # valence and arousal lie in [-1, 1]
    if args.stage == "visual":  # face clips, pixels scaled to [-1, 1]
        return (torch.rand(B, L, 3, args.subsequence_frames, args.crop_size, args.crop_size) * 2 - 1,), labels
    if args.stage == "audio":  # spectrogram windows, each normalised to zero mean and unit variance
        return (torch.randn(B, L, 1, AUDIO_WINDOW, FREQ_BINS),), labels
    # Extracted features: means of ReLU maps, hence non-negative.
    return (torch.rand(B, L, args.feature_dim), torch.rand(B, L, args.feature_dim)), labels


def forward(model, inputs):
    """Per-sub-sequence predictions [B, L, targets]. The unimodal networks see one sub-sequence at a
    time: [B, L, ...] is folded into [B * L, ...] for them and the predictions unfolded again."""
    if len(inputs) == 2:
        return model(*inputs)
    x = inputs[0]
    _, prediction = model(x.reshape(x.shape[0] * x.shape[1], *x.shape[2:]))
    return prediction.view(x.shape[0], x.shape[1], -1)


def forward_shapes(args):
    """Shapes of what the network receives in one forward, for the report."""
    n, L = args.batch_size * subsequences(args), subsequences(args)
    if args.stage == "visual":
        return {"clips": [n, 3, args.subsequence_frames, args.crop_size, args.crop_size]}
    if args.stage == "audio":
        return {"spectrograms": [n, 1, AUDIO_WINDOW, FREQ_BINS]}
    return {"audio": [args.batch_size, L, args.feature_dim], "visual": [args.batch_size, L, args.feature_dim]}


def ccc_loss(prediction, label):
    """core/training/ccc_loss.cpp: mean over targets of 1 - CCC, NaN labels masked out."""
    targets = prediction.shape[-1]
    x = prediction.reshape(-1, targets)
    y = label.to(x.dtype).reshape(-1, targets)
    labelled = ~torch.isnan(y)
    m = labelled.to(x.dtype)
    y = torch.where(labelled, y, torch.zeros_like(y))
    n = m.sum(0)
    n_safe = n.clamp_min(1)
    mean_x, mean_y = (x * m).sum(0) / n_safe, y.sum(0) / n_safe
    dx, dy = (x - mean_x) * m, (y - mean_y) * m
    var_x, var_y = dx.square().sum(0) / n_safe, dy.square().sum(0) / n_safe
    cov = (dx * dy).sum(0) / n_safe
    den = (var_x + var_y + (mean_x - mean_y).square()).clamp_min(1e-12)
    used = (n >= 2).to(x.dtype)
    return ((1 - 2 * cov / den) * used).sum() / used.sum().clamp_min(1)


# ---- Training and timing, one process per rank ----

def train_step(model, optimizer, inputs, labels):
    """Seconds of (forward + loss, backward + all-reduce, optimizer) of one step."""
    dist.barrier()  # outside the timed region: every rank starts the step together
    t0 = time.perf_counter()
    loss = ccc_loss(forward(model, inputs).float(), labels)
    t1 = time.perf_counter()
    # DDP all-reduces gradient buckets while backward runs and waits for the last before returning.
    loss.backward()
    loss.item()  # the trainer reads the loss every step
    t2 = time.perf_counter()
    optimizer.step()
    optimizer.zero_grad()  # in place (set_to_none=False in 1.13), as LibTorch's zero_grad
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def run_rank(rank, args, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)  # avf's train.deterministic default
    dist.init_process_group("gloo", rank=rank, world_size=args.ranks)
    torch.manual_seed(args.seed)  # identical initial weights on every rank (DDP broadcasts rank 0's anyway)
    network = make_network(args)
    model = DistributedDataParallel(network, bucket_cap_mb=args.bucket_mb,
                                    broadcast_buffers=args.broadcast_buffers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    torch.manual_seed(args.seed * 1000003 + rank)  # each rank its own data and dropout, as the trainer seeds
    inputs, labels = make_batch(args)
    model.train()
    times = [train_step(model, optimizer, inputs, labels) for _ in range(args.warmup + args.steps)][args.warmup:]
    mine = {"times": times, "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    everyone = [None] * args.ranks
    dist.all_gather_object(everyone, mine)
    if rank == 0:
        report(args, network, everyone)
    # PyTorch 1.13's gloo group can hang when it is destroyed (explicitly or at exit): it joins its
    # worker threads holding the GIL while one of them waits for the GIL to free a tensor. Once every
    # rank has passed this barrier the results are out, so each rank leaves without destructors.
    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---- Results (rank 0) ----

def summarise(args, network, ranks):
    """The JSON record: medians over steps of the slowest rank's time per phase."""
    phases = ("forward", "backward_allreduce", "optimizer")
    slowest = [[max(r["times"][i][p] for r in ranks) for p in range(3)] for i in range(args.steps)]
    step_s = [max(sum(r["times"][i]) for r in ranks) for i in range(args.steps)]
    median_step = statistics.median(step_s)
    global_batch = args.batch_size * args.ranks
    return {
        "benchmark": "pytorch-ddp-peer",
        "torch_version": torch.__version__,
        "backend": "gloo",
        "stage": args.stage,
        "ranks": args.ranks,
        "threads_per_rank": args.threads,
        "model": {"network": type(network).__name__, "width": args.width, "audio_width_div": args.audio_width_div,
                  "fusion": args.fusion, "feature_dim": args.feature_dim, "hidden": args.hidden},
        "parameters": sum(p.numel() for p in network.parameters()),
        "parameter_tensors": len(list(network.parameters())),
        "shapes": {"sequences_per_rank": args.batch_size, "subsequences": subsequences(args),
                   "subsequence_frames": args.subsequence_frames, "forward_inputs": forward_shapes(args),
                   "labels": [args.batch_size, subsequences(args), N_TARGETS]},
        "ddp": {"bucket_cap_mb": args.bucket_mb, "broadcast_buffers": args.broadcast_buffers},
        "optimizer": {"sgd_lr": LR, "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY},
        "data": "synthetic batch generated once before timing: data loading excluded",
        "steps": args.steps,
        "warmup": args.warmup,
        "median_seconds": dict(zip(phases, (statistics.median(s[p] for s in slowest) for p in range(3))),
                               step=median_step),
        "step_seconds": step_s,
        "per_rank_median_seconds": [dict(zip(phases, (statistics.median(t[p] for t in r["times"]) for p in range(3))))
                                    for r in ranks],
        "global_batch": global_batch,
        "samples_per_s": global_batch / median_step,
        "peak_rss_mib": [r["peak_rss_kib"] / 1024 for r in ranks],  # ru_maxrss is in KiB on Linux
    }


def report(args, network, ranks):
    r = summarise(args, network, ranks)
    ms = r["median_seconds"]
    print(f"# PyTorch DDP peer, stage {r['stage']}: {r['model']['network']}, {r['parameters']} parameters in "
          f"{r['parameter_tensors']} tensors")
    print(f"# {r['ranks']} rank(s) x {r['threads_per_rank']} thread(s), gloo, torch {r['torch_version']}, "
          f"bucket {args.bucket_mb} MB, broadcast_buffers {args.broadcast_buffers}")
    print(f"# per rank and step: {args.batch_size} sequences x {subsequences(args)} sub-sequences; forward input "
          + ", ".join(f"{k} {v}" for k, v in r["shapes"]["forward_inputs"].items()))
    print(f"# {r['data']}; median of {args.steps} steps after {args.warmup} warm-up, slowest rank per step")
    rows = [("forward + loss", ms["forward"]), ("backward + all-reduce", ms["backward_allreduce"]),
            ("optimizer step + zero_grad", ms["optimizer"]), ("step", ms["step"])]
    for what, seconds in rows:
        print(f"  {what:<28} {seconds * 1e3:10.2f} ms")
    print(f"  {'samples/s':<28} {r['samples_per_s']:10.2f}   (global batch {r['global_batch']} sequences)")
    print(f"  {'peak RSS per rank':<28} " + " ".join(f"{m:.0f}" for m in r["peak_rss_mib"]) + " MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
            f.write("\n")


# ---- Launch ----

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", required=True, choices=("visual", "audio", "fusion"))
    p.add_argument("--ranks", type=int, default=1, help="processes, one per rank (gloo on 127.0.0.1)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (median reported)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (allocator, oneDNN caches)")
    p.add_argument("--batch-size", type=int, default=8, help="sequences per rank (train.batch-size)")
    p.add_argument("--sequence-frames", type=int, default=128, help="data.sequence-frames")
    p.add_argument("--subsequence-frames", type=int, default=16, help="data.subsequence-frames (S)")
    p.add_argument("--width", type=float, default=0.125, help="I3D channel multiplier (model.width)")
    p.add_argument("--audio-width-div", type=int, default=16, help="model.audio-width-div")
    p.add_argument("--crop-size", type=int, default=28, help="visual crop (data.crop-size)")
    p.add_argument("--fusion", default="cross-attention", choices=FUSIONS, help="model.fusion")
    p.add_argument("--feature-dim", type=int, default=64, help="fusion input size K of each modality")
    p.add_argument("--hidden", type=int, default=64, help="model.hidden")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads per rank")
    p.add_argument("--bucket-mb", type=float, default=25.0, help="DDP bucket_cap_mb (dist.bucket-mb)")
    p.add_argument("--no-broadcast-buffers", dest="broadcast_buffers", action="store_false",
                   help="DDP broadcasts rank 0's BatchNorm buffers every forward by default; avf does not")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    if args.ranks < 1 or args.steps < 1 or args.warmup < 0 or args.threads < 1 or args.batch_size < 1:
        p.error("--ranks, --steps, --threads and --batch-size must be positive, --warmup not negative")
    if args.sequence_frames % args.subsequence_frames:
        p.error("--sequence-frames must be a multiple of --subsequence-frames")
    return args


def main():
    args = parse_args()
    if not (dist.is_available() and dist.is_gloo_available()):
        sys.exit(f"bench_peer: this PyTorch ({torch.__version__}) was built without torch.distributed's gloo "
                 "backend, so it cannot run DistributedDataParallel on CPUs")
    mp.spawn(run_rank, args=(args, free_port()), nprocs=args.ranks)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Pretrained-weight import, checked numerically against PyTorch.

    test_import_weights.py pytorch-i3d|torchvision-googlenet CONVERT I3D_FORWARD WORKDIR

pytorch-i3d: an InceptionI3d written here after piergiaj/pytorch-i3d's published layer names and
forward (Unit3D = conv3d + bn with TF-"SAME" padding computed per input, BatchNorm eps 1e-3,
MaxPool3dSamePadding, AvgPool3d [2,7,7], a 1x1x1 logits Conv3d with bias) gets random weights; its
state dict goes through tools/convert-weights and `--model.visual-weights`, and avf's real forward
must give PyTorch's pooled 1024-d feature and logits on the same 16x224x224 clips.

torchvision-googlenet: torchvision's GoogLeNet (auxiliary classifiers included, as in the published
file) gets random weights; its state dict goes through tools/convert-weights and
`--model.inflate-from`. The reference is the same InceptionI3d filled from the 2D modules *by their
order in the network* (not by name, so the converter's name table is checked independently), each
kernel repeated over time and divided by its depth, as I3D inflates ImageNet weights.

Exit 0 when every max abs diff is <= 1e-4 (float32), 1 otherwise, 77 (skip) without torch or, for
GoogLeNet, without torchvision.
"""
import os
import subprocess
import sys

try:
    import h5py
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print(f"SKIP: {e} (Debian: apt-get install python3-torch python3-h5py)")
    sys.exit(77)

TOLERANCE = 1e-4


def same_pad(x, kernel, stride):
    """TensorFlow 'SAME' as pytorch-i3d computes it: zero padding, the odd element at the end."""
    pads = []
    for d in (2, 1, 0):  # F.pad wants the last dimension first
        n, k, s = x.shape[2 + d], kernel[d], stride[d]
        total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit3D(nn.Module):
    def __init__(self, cin, cout, kernel=(1, 1, 1), stride=(1, 1, 1), batch_norm=True, bias=False, relu=True):
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride, padding=0, bias=bias)
        if batch_norm:
            self.bn = nn.BatchNorm3d(cout, eps=0.001, momentum=0.01)

    def forward(self, x):
        x = self.conv3d(same_pad(x, self.kernel, self.stride))
        if hasattr(self, "bn"):
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPool3dSamePadding(nn.MaxPool3d):
    def forward(self, x):  # zero padding, as published (the input is post-ReLU, so it never wins)
        return super().forward(same_pad(x, self.kernel_size, self.stride))


class InceptionModule(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.b0 = Unit3D(cin, c[0])
        self.b1a = Unit3D(cin, c[1])
        self.b1b = Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a = Unit3D(cin, c[3])
        self.b2b = Unit3D(c[3], c[4], (3, 3, 3))
        self.b3a = MaxPool3dSamePadding((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(cin, c[5])

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)


class InceptionI3d(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSamePadding((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSamePadding((1, 3, 3), (1, 2, 2))
        self.Mixed_3b = InceptionModule(192, [64, 96, 128, 16, 32, 32])
        self.Mixed_3c = InceptionModule(256, [128, 128, 192, 32, 96, 64])
        self.MaxPool3d_4a_3x3 = MaxPool3dSamePadding((3, 3, 3), (2, 2, 2))
        self.Mixed_4b = InceptionModule(480, [192, 96, 208, 16, 48, 64])
        self.Mixed_4c = InceptionModule(512, [160, 112, 224, 24, 64, 64])
        self.Mixed_4d = InceptionModule(512, [128, 128, 256, 24, 64, 64])
        self.Mixed_4e = InceptionModule(512, [112, 144, 288, 32, 64, 64])
        self.Mixed_4f = InceptionModule(528, [256, 160, 320, 32, 128, 128])
        self.MaxPool3d_5a_2x2 = MaxPool3dSamePadding((2, 2, 2), (2, 2, 2))
        self.Mixed_5b = InceptionModule(832, [256, 160, 320, 32, 128, 128])
        self.Mixed_5c = InceptionModule(832, [384, 192, 384, 48, 128, 128])
        self.avg_pool = nn.AvgPool3d((2, 7, 7), stride=(1, 1, 1))
        self.dropout = nn.Dropout(0.5)
        self.logits = Unit3D(1024, num_classes, batch_norm=False, bias=True, relu=False)

    def trunk(self, x):
        for name, module in self.named_children():
            if name == "avg_pool":
                return x
            x = module(x)

    def extract_features(self, x):  # the pooled 1024-d feature, [B, 1024]
        return self.avg_pool(self.trunk(x)).flatten(1)

    def forward(self, x):
        # [B, classes, T'] as published (spatial squeeze), averaged over the T' time steps.
        logits = self.logits(self.dropout(self.avg_pool(self.trunk(x)))).squeeze(3).squeeze(3)
        return logits.mean(2)


def calibrate_and_perturb(model, batch):
    """Random weights that keep activations O(1) through ~60 layers: random BatchNorm weights and
    biases, then running statistics taken from a training-mode pass over `batch` (momentum 1), so
    in eval mode every BatchNorm tensor matters and none lets the scale drift along the depth."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.6, 1.4)
            bn.bias.normal_(0.0, 0.2)
            bn.momentum = 1.0
        model.train()
        getattr(model, "trunk", model)(batch)  # I3D's BatchNorms are all in its trunk
        model.eval()
        for bn in bns:
            bn.momentum = 0.01


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, end="")
    return r


def avf_forward(i3d_forward, key, weights, targets, clip, work):
    inp, out = os.path.join(work, "clip.h5"), os.path.join(work, "avf-out.h5")
    with h5py.File(inp, "w") as f:
        f["clip"] = clip.numpy()
    r = run([i3d_forward, key, weights, "--targets", str(targets), "--input", inp, "--output", out])
    if r.returncode != 0:
        sys.exit(f"FAIL: i3d_forward exited {r.returncode}")
    with h5py.File(out) as f:
        return torch.from_numpy(f["feature"][()]), torch.from_numpy(f["logits"][()])


def compare(label, avf, reference):
    assert avf.shape == reference.shape, f"{label}: avf {tuple(avf.shape)} vs PyTorch {tuple(reference.shape)}"
    diff = (avf - reference).abs().max().item()
    ok = diff <= TOLERANCE
    print(f"{label}: max abs diff {diff:.3g} (values up to {reference.abs().max().item():.3g}) "
          f"{'OK' if ok else 'FAIL'} (tolerance {TOLERANCE})")
    return ok


def expect_converter_error(convert, source, state, work, mentions):
    """The converter must refuse `state` with a message that names the offending tensor."""
    path = os.path.join(work, "bad.pt")
    torch.save(state, path)
    r = run([convert, "--from", source, path, os.path.join(work, "bad.h5")])
    if r.returncode == 0 or mentions not in r.stdout:
        sys.exit(f"FAIL: convert-weights should refuse a state dict and name {mentions!r}")


def compare_with_avf(model, i3d_forward, flag, h5, classes, work, what):
    """The reference model and avf's I3D loaded through `flag` on one random clip: pooled feature and
    logits. True when both agree."""
    clip = torch.rand(2, 3, 16, 224, 224) * 2 - 1
    with torch.no_grad():
        feature, logits = model.extract_features(clip), model(clip)
    avf_feature, avf_logits = avf_forward(i3d_forward, flag, h5, classes, clip, work)
    ok = compare(f"{what} pooled feature", avf_feature, feature)
    return compare(f"{what} logits", avf_logits, logits) and ok


def test_pytorch_i3d(convert, i3d_forward, work):
    classes = 400  # Kinetics, as in rgb_imagenet.pt
    model = InceptionI3d(classes)
    calibrate_and_perturb(model, torch.rand(1, 3, 16, 224, 224) * 2 - 1)
    with torch.no_grad():
        model.logits.conv3d.weight.normal_(0, 0.05)
        model.logits.conv3d.bias.normal_(0, 0.1)
    state = model.state_dict()
    pt, h5 = os.path.join(work, "i3d.pt"), os.path.join(work, "i3d.h5")
    torch.save(state, pt)
    if run([convert, "--from", "pytorch-i3d", pt, h5]).returncode != 0:
        sys.exit("FAIL: convert-weights")

    ok = compare_with_avf(model, i3d_forward, "--visual-weights", h5, classes, work, "pytorch-i3d")

    # Errors name the tensor: an unknown name, a missing tensor, a wrong shape.
    renamed = dict(state)
    renamed["Mixed_4c.b1b.conv3d.weights"] = renamed.pop("Mixed_4c.b1b.conv3d.weight")
    expect_converter_error(convert, "pytorch-i3d", renamed, work, "Mixed_4c.b1b.conv3d.weights")
    expect_converter_error(convert, "pytorch-i3d", renamed, work, "Mixed_4c.b1b.conv3d.weight is missing")
    misshapen = dict(state)
    misshapen["Mixed_5c.b0.bn.running_var"] = torch.ones(383)
    expect_converter_error(convert, "pytorch-i3d", misshapen, work, "Mixed_5c.b0.bn.running_var has shape [383]")
    return ok


def test_torchvision_googlenet(convert, i3d_forward, work):
    try:
        import torchvision
    except ImportError as e:
        print(f"SKIP: {e} (Debian: apt-get install python3-torchvision)")
        sys.exit(77)
    classes = 1000
    # As published: auxiliary classifiers present in the state dict; the raw network (no
    # transform_input), which expects avf's [-1, 1] input.
    net2d = torchvision.models.googlenet(weights=None, aux_logits=True, transform_input=False, init_weights=True)
    calibrate_and_perturb(net2d, torch.rand(4, 3, 224, 224) * 2 - 1)
    with torch.no_grad():
        net2d.fc.weight.normal_(0, 0.05)
        net2d.fc.bias.normal_(0, 0.1)
    pt, h5 = os.path.join(work, "googlenet.pt"), os.path.join(work, "googlenet.h5")
    torch.save(net2d.state_dict(), pt)
    if run([convert, "--from", "torchvision-googlenet", pt, h5]).returncode != 0:
        sys.exit("FAIL: convert-weights")

    # The reference inflation, pairing modules by position: the 57 Conv-BN units of GoogLeNet's
    # main path in definition order are I3D's Conv-BN units in definition order.
    model = InceptionI3d(classes).eval()
    units2d = [m for n, m in net2d.named_modules()
               if type(m).__name__ == "BasicConv2d" and not n.startswith("aux")]
    units3d = [m for m in model.modules() if isinstance(m, Unit3D) and hasattr(m, "bn")]
    assert len(units2d) == len(units3d) == 57, (len(units2d), len(units3d))
    with torch.no_grad():
        for u2, u3 in zip(units2d, units3d):
            depth = u3.conv3d.weight.shape[2]
            u3.conv3d.weight.copy_(u2.conv.weight.unsqueeze(2).repeat(1, 1, depth, 1, 1) / depth)
            for t in ("weight", "bias", "running_mean", "running_var"):
                getattr(u3.bn, t).copy_(getattr(u2.bn, t))
        model.logits.conv3d.weight.copy_(net2d.fc.weight[:, :, None, None, None])
        model.logits.conv3d.bias.copy_(net2d.fc.bias)

    ok = compare_with_avf(model, i3d_forward, "--inflate-from", h5, classes, work, "googlenet inflated")

    # 2D weights are not 3D weights: model.visual-weights refuses them and points to inflate-from.
    r = run([i3d_forward, "--visual-weights", h5, "--targets", str(classes), "--input",
             os.path.join(work, "clip.h5"), "--output", os.path.join(work, "unused.h5")])
    if r.returncode == 0 or "model.inflate-from" not in r.stdout:
        sys.exit("FAIL: 2D weights through --visual-weights should be an error naming model.inflate-from")
    return ok


def main():
    source, convert, i3d_forward, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(2021)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    tests = {"pytorch-i3d": test_pytorch_i3d, "torchvision-googlenet": test_torchvision_googlenet}
    ok = tests[source](convert, i3d_forward, work)
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

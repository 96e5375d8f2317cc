"""DenseNet121 references for the Rust tests (issue #17, SPEC §10), made with the real peers.

Pinned: torch 2.11.0, torchvision 0.26.0, captum 0.9.0 (see requirements.txt).

Two models, seeded random weights with randomised BatchNorm statistics, eval mode:
  - `densenet121`: torchvision's densenet121, 3 channels, 1000 classes, ImageNet normalisation;
  - `xrv-densenet121`: torchxrayvision's DenseNet layout, which is torchvision's with
    `features.conv0` taking 1 channel and `classifier = Linear(1024, 18)`; built here from
    torchvision's class with conv0 replaced (the parameter names are the same), with
    torchxrayvision's pixel scaling (2p − 1)·1024 inside the model and an `op_threshs` tensor in
    the weights file as torchxrayvision's state_dict has it (the Rust loader ignores it).
    Multi-label: CO weighs the chosen output alone (κ_target = 1, all others 0).
For each: the weights as safetensors, a batch of two small random inputs in [0, 1] (64×64: a
DenseNet121 is slow on two CPU cores), the logits, Captum 0.9.0 attributions of all six methods
for each image's highest-scoring output (LayerGradCam at `features.conv0` and at a deep layer),
CO scores of every method in both variants, and for the 1-channel model the paper's GAX loop
written for one channel (W and b of shape [1, H, W]), 20 steps, sum and mult (CO, loss,
similarity).

Captum's DeepLift, GuidedBackprop and Deconvolution apply their rules through hooks on nn.ReLU
*modules*; torchvision's DenseNet ends in a functional `F.relu(features)` that Captum would pass
with its ordinary gradient. SPEC §4 makes every ReLU call a rule point, so the reference model
here replaces that final F.relu by an nn.ReLU module (same forward values) to get the numbers
SPEC §4 defines. Every other ReLU is made non-inplace (Captum's DeepLift needs that).

Usage: python make_densenet.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from safetensors.torch import save_file

import captum
from captum.attr import (DeepLift, Deconvolution, GuidedBackprop, InputXGradient,
                         LayerAttribution, LayerGradCam, Saliency)

assert torch.__version__.split("+")[0] == "2.11.0", torch.__version__
assert torchvision.__version__.split("+")[0] == "0.26.0", torchvision.__version__
assert captum.__version__ == "0.9.0", captum.__version__

torch.set_num_threads(max(1, os.cpu_count() or 1))
METHODS = ["Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift"]
SIZE = 64
BATCH = 2
DEEP_LAYER = "features.transition2.conv"
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class DenseNetRef(nn.Module):
    """torchvision's DenseNet forward with the final F.relu as its own nn.ReLU module and the
    normalisation inside."""

    def __init__(self, net, normalize):
        super().__init__()
        self.features = net.features
        self.classifier = net.classifier
        self.final_relu = nn.ReLU()
        self.normalize = normalize

    def forward(self, x):
        if self.normalize == "imagenet":
            x = (x - MEAN) / STD
        elif self.normalize == "xrv":
            x = (2 * x - 1) * 1024
        out = self.final_relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(torch.flatten(out, 1))


def randomise_bn(net, gen):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 0.5 + 0.75)
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def build(name, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    if name == "densenet121":
        net = torchvision.models.densenet121(weights=None, num_classes=1000)
        normalize, channels, classes = "imagenet", 3, 1000
    else:
        net = torchvision.models.densenet121(weights=None, num_classes=18)
        net.features.conv0 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        normalize, channels, classes = "xrv", 1, 18
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    with torch.no_grad():
        # torchvision zeroes the classifier bias; a random one checks that it loads.
        net.classifier.bias.copy_(0.1 * torch.randn(net.classifier.bias.shape, generator=gen))
    randomise_bn(net, gen)
    ref = DenseNetRef(net, normalize).eval()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    if name == "xrv-densenet121":
        state["op_threshs"] = torch.rand(18, generator=gen)
    return ref, state, normalize, channels, classes


def attributions(net, x, targets):
    out = {}
    out["Saliency"] = Saliency(net).attribute(x, target=targets, abs=False)
    out["InputXGradient"] = InputXGradient(net).attribute(x, target=targets)
    c = x.shape[1]
    for key, layer in [("LayerGradCam", net.features.conv0),
                       ("LayerGradCam_deep", net.features.transition2.conv)]:
        cam = LayerGradCam(net, layer).attribute(x, target=targets)
        cam = LayerAttribution.interpolate(cam, (SIZE, SIZE), interpolate_mode="bilinear")
        out[key] = cam.expand(-1, c, -1, -1).contiguous()
    out["Deconvolution"] = Deconvolution(net).attribute(x, target=targets)
    out["GuidedBackprop"] = GuidedBackprop(net).attribute(x, target=targets)
    out["DeepLift"] = DeepLift(net).attribute(x, target=targets)
    return {k: v.detach() for k, v in out.items()}


def kappa(labels, classes, multilabel):
    """SPEC §5 for single-label models; SPEC §10 (the chosen output alone) for multi-label."""
    k = torch.zeros((len(labels), classes)) if multilabel else torch.full((len(labels), classes), -1.0 / (classes - 1))
    k[torch.arange(len(labels)), torch.as_tensor(labels)] = 1.0
    return k


def co_scores(net, x, attrs, labels, classes, multilabel):
    k = kappa(labels, classes, multilabel)
    with torch.no_grad():
        y0 = net(x)
        res = np.zeros((len(METHODS), 2, x.shape[0]), dtype=np.float32)
        for i, m in enumerate(METHODS):
            a = attrs[m]
            amax = a.abs().flatten(1).max(1).values.view(-1, 1, 1, 1)
            h = torch.where(amax > 0, a / torch.where(amax > 0, amax, torch.ones_like(amax)), torch.zeros_like(a))
            for j, xp in enumerate([x + h, x * h]):
                res[i, j] = ((net(xp) - y0) * k).sum(1).numpy()
    return res


def gax_trajectory(net, x, label, classes, multilabel, variant, steps=20, lr=0.1, lam=100.0, eps=1e-4):
    """The paper's GAX loop (SPEC §6 semantics) for a C-channel image: W and b of shape
    [C, H, W]; rows CO, loss, similarity of the heatmap after t updates, t = 0..steps."""
    for p in net.parameters():
        p.requires_grad_(False)
    c = x.shape[1]
    w = torch.ones(c, SIZE, SIZE, requires_grad=True)
    b = torch.full((c, SIZE, SIZE), 0.01, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, betas=(0.9, 0.999))
    k = kappa([label], classes, multilabel)
    with torch.no_grad():
        y0 = net(x)
    rows = [[], [], []]
    for t in range(steps + 1):
        h = torch.tanh(w * x + b)
        xp = x + h if variant == "sum" else x * h
        co = ((net(xp) - y0) * k).sum()
        sim = ((h - x + eps) ** 2 / (x + eps)).mean()
        loss = -co + lam / sim
        for r, v in zip(rows, (co, loss, sim)):
            r.append(v.item())
        if t == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return np.array(rows, dtype=np.float32)


def main(out_dir):
    for k, name in enumerate(["densenet121", "xrv-densenet121"]):
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        net, state, normalize, channels, classes = build(name, 300 + k)
        multilabel = name.startswith("xrv")
        save_file(state, os.path.join(d, "weights.safetensors"))
        g = torch.Generator().manual_seed(400 + k)
        x = torch.rand(BATCH, channels, SIZE, SIZE, generator=g)
        x[0, :, :12, :12] = 0.0  # a region equal to the DeepLift baseline
        with torch.no_grad():
            logits = net(x)
        targets = logits.argmax(1)
        np.save(os.path.join(d, "inputs.npy"), x.numpy())
        np.save(os.path.join(d, "logits.npy"), logits.numpy())
        attrs = attributions(net, x.clone(), targets)
        for m, a in attrs.items():
            np.save(os.path.join(d, f"attr_{m}.npy"), a.numpy().astype(np.float32))
        labels = targets.clone()
        labels[1] = (labels[1] + 1) % classes
        np.save(os.path.join(d, "co.npy"), co_scores(net, x, attrs, labels.tolist(), classes, multilabel))
        meta = {"arch": name, "classes": classes, "channels": channels, "normalize": normalize,
                "multilabel": multilabel, "targets": targets.tolist(), "co_labels": labels.tolist(),
                "deep_layer": DEEP_LAYER, "logit_scale": float(logits.abs().max()),
                "torch": torch.__version__, "torchvision": torchvision.__version__,
                "captum": captum.__version__}
        if channels == 1:
            for variant in ["sum", "mult"]:
                rows = gax_trajectory(net, x[1:2], int(targets[1]), classes, multilabel, variant)
                np.save(os.path.join(d, f"gax_{variant}.npy"), rows)
            meta["gax_image"] = 1
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print(f"reference {name}: done (max |logit| {meta['logit_scale']:.3g})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

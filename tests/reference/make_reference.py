"""Reference outputs for the Rust tests, made with the real peers.

Pinned: torch 2.11.0, torchvision 0.26.0, captum 0.9.0 (see requirements.txt).

For each model: seeded random torchvision weights with randomised BatchNorm statistics, eval
mode, every ReLU call its own non-inplace module (as the paper's code did, since Captum's
DeepLift raises on a reused ReLU module), and
  - the weights as safetensors (the 2-class models under the paper's checkpoint names),
  - a batch of inputs in [0, 1] and torchvision's logits,
  - Captum 0.9.0 attributions of all six methods for each image's predicted class,
  - CO scores of the paper's formula for every method and both variants,
  - the paper's GAX loop (PyTorch, Adam) CO trajectory for 20 steps, sum and mult,
and the same for grayscale images with large flat regions (`flat_images.py`) read from PNG
files that the tests decode themselves: logits, attributions (batched), CO, GAX trajectories
(CO, loss, similarity), and one image's activations and input gradient for a bit-for-bit check.
`decode/` holds the decoding and resizing fixtures (`decode_cases.py`).

Usage: python make_reference.py OUT_DIR
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
import decode_cases
import flat_images
import flat_reference
from captum.attr import (DeepLift, Deconvolution, GuidedBackprop, InputXGradient,
                         LayerAttribution, LayerGradCam, Saliency)

assert torch.__version__.split("+")[0] == "2.11.0", torch.__version__
assert torchvision.__version__.split("+")[0] == "0.26.0", torchvision.__version__
assert captum.__version__ == "0.9.0", captum.__version__

torch.set_num_threads(max(1, os.cpu_count() or 1))
METHODS = ["Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift"]
SIZE = 256
BATCH = 2
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class BasicBlockAdjusted(nn.Module):
    """torchvision's BasicBlock with one non-inplace ReLU module per call."""

    def __init__(self, b):
        super().__init__()
        self.conv1, self.bn1, self.conv2, self.bn2 = b.conv1, b.bn1, b.conv2, b.bn2
        self.downsample = b.downsample
        self.relu, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


class BottleneckAdjusted(nn.Module):
    """torchvision's Bottleneck with one non-inplace ReLU module per call."""

    def __init__(self, b):
        super().__init__()
        self.conv1, self.bn1, self.conv2, self.bn2, self.conv3, self.bn3 = b.conv1, b.bn1, b.conv2, b.bn2, b.conv3, b.bn3
        self.downsample = b.downsample
        self.relu, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu3(out + identity)


def adjust(net):
    """Non-inplace ReLUs everywhere, one module per call."""
    for name, m in list(net.named_modules()):
        if isinstance(m, nn.ReLU):
            m.inplace = False
    if isinstance(net, torchvision.models.ResNet):
        net.relu = nn.ReLU()
        for layer in [net.layer1, net.layer2, net.layer3, net.layer4]:
            for i, b in enumerate(layer):
                if isinstance(b, torchvision.models.resnet.BasicBlock):
                    layer[i] = BasicBlockAdjusted(b)
                elif isinstance(b, torchvision.models.resnet.Bottleneck):
                    layer[i] = BottleneckAdjusted(b)
    if isinstance(net, torchvision.models.SqueezeNet):
        for m in net.modules():
            if type(m).__name__ == "Fire":
                m.squeeze_activation = nn.ReLU()
                m.expand1x1_activation = nn.ReLU()
                m.expand3x3_activation = nn.ReLU()
    return net


def randomise_bn(net, gen):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 0.5 + 0.75)
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


class Resnet34Pneu(nn.Module):
    """The paper's two-class ResNet34: children 0..8, then fc = Linear(512, 2, bias=False)."""

    def __init__(self):
        super().__init__()
        self.backbone = adjust(torchvision.models.resnet34(weights=None))
        self.fc = nn.Linear(512, 2, bias=False)
        self.iter = nn.Parameter(torch.tensor(0.0), requires_grad=False)

    def forward(self, x):
        for i, c in enumerate(self.backbone.children()):
            if i > 8:
                break
            x = c(x)
        return self.fc(torch.flatten(x, 1))


class AlexPneu(nn.Module):
    """The paper's two-class AlexNet: features, avgpool, classifier[0..5], fc (no bias)."""

    def __init__(self):
        super().__init__()
        self.backbone = adjust(torchvision.models.alexnet(weights=None))
        self.fc = nn.Linear(4096, 2, bias=False)
        self.iter = nn.Parameter(torch.tensor(0.0), requires_grad=False)

    def forward(self, x):
        b = self.backbone
        x = torch.flatten(b.avgpool(b.features(x)), 1)
        for i in range(6):
            x = b.classifier[i](x)
        return self.fc(x)


class Normalized(nn.Module):
    """Normalisation inside the forward, as our models do; attributions are in pixel space."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net((x - MEAN) / STD)


def build(name, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    if name == "resnet34-2class":
        net = Resnet34Pneu()
        randomise_bn(net, gen)
        return net, net.backbone.conv1, net.state_dict(), "none", 2
    if name == "alexnet-2class":
        net = AlexPneu()
        return net, net.backbone.features[0], net.state_dict(), "none", 2
    classes = 10 if name == "squeezenet1_1" else 1000
    net = adjust(getattr(torchvision.models, name)(weights=None, num_classes=classes))
    randomise_bn(net, gen)
    layer = net.conv1 if name.startswith("resnet") else net.features[0]
    return Normalized(net), layer, net.state_dict(), "imagenet", classes


def inputs(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(BATCH, 3, SIZE, SIZE, generator=g)
    x[0, :, :40, :40] = 0.0  # a region equal to the DeepLift baseline
    return x


def attributions(net, layer, x, targets):
    out = {}
    out["Saliency"] = Saliency(net).attribute(x, target=targets, abs=False)
    out["InputXGradient"] = InputXGradient(net).attribute(x, target=targets)
    cam = LayerGradCam(net, layer).attribute(x, target=targets)
    cam = LayerAttribution.interpolate(cam, (SIZE, SIZE), interpolate_mode="bilinear")
    out["LayerGradCam"] = cam.expand(-1, 3, -1, -1).contiguous()
    out["Deconvolution"] = Deconvolution(net).attribute(x, target=targets)
    out["GuidedBackprop"] = GuidedBackprop(net).attribute(x, target=targets)
    out["DeepLift"] = DeepLift(net).attribute(x, target=targets)
    return {k: v.detach() for k, v in out.items()}


def co_scores(net, x, attrs, labels, classes):
    kappa = torch.full((x.shape[0], classes), -1.0 / (classes - 1))
    kappa[torch.arange(x.shape[0]), labels] = 1.0
    with torch.no_grad():
        y0 = net(x)
        res = np.zeros((len(METHODS), 2, x.shape[0]), dtype=np.float32)
        for i, m in enumerate(METHODS):
            a = attrs[m]
            amax = a.abs().flatten(1).max(1).values.view(-1, 1, 1, 1)
            h = torch.where(amax > 0, a / torch.where(amax > 0, amax, torch.ones_like(amax)), torch.zeros_like(a))
            for j, xp in enumerate([x + h, x * h]):
                res[i, j] = ((net(xp) - y0) * kappa).sum(1).numpy()
    return res


def gax_trajectory(net, x, label, classes, variant, steps=20, lr=0.1, lam=100.0, eps=1e-4):
    """The paper's GAX loop (SPEC §6 semantics): CO of the heatmap after t updates, t = 0..steps.
    Also returns the loss and the similarity term of each step."""
    for p in net.parameters():
        p.requires_grad_(False)
    w = torch.ones(3, SIZE, SIZE, requires_grad=True)
    b = torch.full((3, SIZE, SIZE), 0.01, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, betas=(0.9, 0.999))
    kappa = torch.full((1, classes), -1.0 / (classes - 1))
    kappa[0, label] = 1.0
    with torch.no_grad():
        y0 = net(x)
    cos, losses, sims = [], [], []
    for t in range(steps + 1):
        h = torch.tanh(w * x + b)
        xp = x + h if variant == "sum" else x * h
        co = ((net(xp) - y0) * kappa).sum()
        sim = ((h - x + eps) ** 2 / (x + eps)).mean()
        loss = -co + lam / sim
        cos.append(co.item())
        losses.append(loss.item())
        sims.append(sim.item())
        if t == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [np.array(v, dtype=np.float32) for v in (cos, losses, sims)]


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    decode_cases.write_cases(os.path.join(out_dir, "decode"))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    flat_paths = flat_images.write(os.path.join(out_dir, "flat"), repo)
    np.save(os.path.join(out_dir, "flat", "inputs.npy"), flat_images.batch(flat_paths).numpy())
    full = ["resnet34", "alexnet", "resnet34-2class", "alexnet-2class"]
    forward_only = ["resnet18", "resnet50", "squeezenet1_1"]
    gax_models = ["resnet34-2class", "alexnet"]
    # The flat image each GAX model's trajectories run on.
    flat_gax = {"resnet34-2class": "xray8", "alexnet": "page"}
    for k, name in enumerate(full + forward_only):
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        net, layer, state, normalize, classes = build(name, 100 + k)
        net.eval()
        save_file({kk: v.contiguous() for kk, v in state.items()}, os.path.join(d, "weights.safetensors"))
        x = inputs(200 + k)
        with torch.no_grad():
            logits = net(x)
        targets = logits.argmax(1)
        np.save(os.path.join(d, "inputs.npy"), x.numpy())
        np.save(os.path.join(d, "logits.npy"), logits.numpy())
        meta = {"arch": name, "classes": classes, "normalize": normalize, "targets": targets.tolist(),
                "torch": torch.__version__, "torchvision": torchvision.__version__, "captum": captum.__version__}
        if name in full:
            attrs = attributions(net, layer, x.clone(), targets)
            for m, a in attrs.items():
                np.save(os.path.join(d, f"attr_{m}.npy"), a.numpy().astype(np.float32))
            # CO against a label that differs from the prediction for image 1 (ground truth known).
            labels = targets.clone()
            labels[1] = (labels[1] + 1) % classes
            meta["co_labels"] = labels.tolist()
            np.save(os.path.join(d, "co.npy"), co_scores(net, x, attrs, labels, classes))
            flat_reference.write(d, name, net, layer, classes, flat_paths, (x[:1], int(targets[0])),
                                 flat_gax.get(name), meta, attributions, co_scores, gax_trajectory)
        if name == "squeezenet1_1":
            # The TorchScript path: the inner network traced (normalisation stays outside, as
            # `--torchscript FILE --normalize imagenet` applies it), and the two input-gradient
            # methods of the normalised model for the same targets.
            traced = torch.jit.trace(net.net, torch.rand(1, 3, SIZE, SIZE))
            traced.save(os.path.join(d, "model.pt"))
            xs = x.clone()
            np.save(os.path.join(d, "attr_Saliency.npy"), Saliency(net).attribute(xs, target=targets, abs=False).detach().numpy())
            np.save(os.path.join(d, "attr_InputXGradient.npy"), InputXGradient(net).attribute(xs, target=targets).detach().numpy())
        if name in gax_models:
            for variant in ["sum", "mult"]:
                traj = gax_trajectory(net, x[1:2], int(targets[1]), classes, variant)[0]
                np.save(os.path.join(d, f"gax_{variant}.npy"), traj)
            meta["gax_image"] = 1
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print(f"reference {name}: done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

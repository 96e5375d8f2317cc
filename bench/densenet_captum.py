"""Captum / PyTorch side of bench/densenet_cpu.sh: per-method Captum 0.9.0 time for one image
and the time of one GAX step of the paper's loop (SPEC §6: h = tanh(W ⊙ x + b), W and b of the
image's channels, Adam lr 0.1, loss = −CO + λ / similarity) for DenseNet121 at SIZE², on the
same seeded random models the parity references use (tests/reference/make_densenet.py: every
ReLU its own non-inplace module, the final F.relu a module, as Captum's rules need).

  densenet121      torchvision's, 3 channels, 1000 classes, κ of SPEC §5
  xrv-densenet121  torchxrayvision's layout, 1 channel, 18 outputs, κ of the chosen output alone

Timed like heatmap-explorer's `bench attribute` (one warm-up call, then REPS calls) and `bench
gax` (STEPS steps, the clock over the STEPS − 2 in the middle).

Usage: python bench/densenet_captum.py ARCHS SIZE REPS STEPS
       e.g. densenet121,xrv-densenet121 224 3 5
"""
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from make_densenet import build, kappa  # noqa: E402

import captum.attr as ca  # noqa: E402


def methods(net, size):
    def cam(x, t):
        a = ca.LayerGradCam(net, net.features.conv0).attribute(x, target=t)
        a = ca.LayerAttribution.interpolate(a, (size, size), interpolate_mode="bilinear")
        return a.expand(-1, x.shape[1], -1, -1)

    return {
        "Saliency": lambda x, t: ca.Saliency(net).attribute(x, target=t, abs=False),
        "InputXGradient": lambda x, t: ca.InputXGradient(net).attribute(x, target=t),
        "LayerGradCam": cam,
        "Deconvolution": lambda x, t: ca.Deconvolution(net).attribute(x, target=t),
        "GuidedBackprop": lambda x, t: ca.GuidedBackprop(net).attribute(x, target=t),
        "DeepLift": lambda x, t: ca.DeepLift(net).attribute(x, target=t),
    }


def time_methods(name, net, x, reps):
    with torch.no_grad():
        t = net(x).argmax(1)
    for method, f in methods(net, x.shape[-1]).items():
        f(x, t)
        start = time.perf_counter()
        for _ in range(reps):
            f(x, t)
        ms = 1000 * (time.perf_counter() - start) / reps
        print(f"captum attribute {name} {method} batch=1 size={x.shape[-1]}: {ms:.1f} ms/call",
              flush=True)


def time_gax(name, net, x, classes, multilabel, steps, lr=0.1, lam=100.0, eps=1e-4):
    for p in net.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        y0 = net(x)
    k = kappa([int(y0.argmax(1))], classes, multilabel)
    w = torch.ones_like(x[0], requires_grad=True)
    b = torch.full_like(x[0], 0.01, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr)
    start = end = None
    for step in range(steps):
        if step == 1:
            start = time.perf_counter()
        h = torch.tanh(w * x + b)
        co = ((net(x + h) - y0) * k).sum()
        sim = ((h - x + eps) ** 2 / (x + eps)).mean()
        loss = -co + lam / sim
        opt.zero_grad()
        loss.backward()
        opt.step()
        co.item()
        if step == steps - 2:
            end = time.perf_counter()
    ms = 1000 * (end - start) / (steps - 2)
    print(f"pytorch-eager gax {name} batch=1 size={x.shape[-1]} channels={x.shape[1]}: "
          f"{ms:.1f} ms/step", flush=True)


def main(names, size, reps, steps):
    print("torch", torch.__version__, "threads", torch.get_num_threads(), flush=True)
    for k, name in enumerate(names):
        net, _, _, channels, classes = build(name, 300 + k)
        x = torch.rand(1, channels, size, size, generator=torch.Generator().manual_seed(2))
        time_methods(name, net, x, reps)
        time_gax(name, net, x, classes, name.startswith("xrv"), steps)


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    steps = int(sys.argv[4])
    assert steps >= 3, "at least 3 GAX steps (the clock runs over the middle ones)"
    main(sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), steps)

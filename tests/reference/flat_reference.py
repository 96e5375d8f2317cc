"""The flat-region references of one model (see `flat_images.py`), written by
`make_reference.py` beside the model's other references.

On such images PyTorch's own results depend on the batch a flat image is in: a convolution
computed for a batch of 5 and one of 6 can differ in the last bit at some positions (oneDNN
picks its implementation by shape), which breaks the exact ties of a flat region differently
(alexnet Saliency on `blocks`: 15 % apart). So every reference here is computed on exactly the
batch the Rust test runs:
  - batched: the five flat images and the model's first noise input, one batch of six
    (`flat_attr_*`, `flat_co`), and each flat image alone (`flat_single_attr_*`,
    `flat_single_co`);
  - GAX: the paper's loop on one flat image alone (`flat_gax_*`), and the same loop with that
    image in a batch of two with the noise image (`flat_gax2_*`; independent per-image losses,
    summed), 20 steps, rows CO, loss, similarity;
  - bits: one flat image alone, every tapped activation, the logits and the input gradient.
"""
import os

import numpy as np
import torch

import flat_images


class Recorder:
    """Forward hooks that keep named module outputs (the layer names our models tap)."""

    def __init__(self, net, names):
        self.out = {}
        modules = dict(net.named_modules())
        self.handles = [modules[m].register_forward_hook(self._hook(tap)) for tap, m in names.items()]

    def _hook(self, tap):
        def keep(module, inputs, output):
            self.out[tap] = output.detach().clone()
        return keep

    def remove(self):
        for h in self.handles:
            h.remove()


def tap_modules(name):
    """Our tap name -> the reference module whose output it is."""
    prefix = "backbone." if name.endswith("-2class") else "net."
    if name.startswith("resnet"):
        taps = ["conv1", "bn1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool"]
    else:
        taps = [f"features.{i}" for i in range(13)] + ["avgpool"]
    return {t: prefix + t for t in taps}


def gax_batched(net, x, labels, classes, variant, steps=20, lr=0.1, lam=100.0, eps=1e-4):
    """The paper's loop for a batch: per-image W, b, CO and similarity, the losses summed (Adam
    is element-wise, so each image's trajectory is its own). Returns [3, B, steps + 1]."""
    n = x.shape[0]
    w = torch.ones_like(x, requires_grad=True)
    b = torch.full_like(x, 0.01, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr, betas=(0.9, 0.999))
    kappa = torch.full((n, classes), -1.0 / (classes - 1))
    kappa[torch.arange(n), labels] = 1.0
    with torch.no_grad():
        y0 = net(x)
    rows = []
    for t in range(steps + 1):
        h = torch.tanh(w * x + b)
        xp = x + h if variant == "sum" else x * h
        co = ((net(xp) - y0) * kappa).sum(1)
        sim = ((h - x + eps) ** 2 / (x + eps)).view(n, -1).mean(1)
        loss = -co + lam / sim
        rows.append(torch.stack([co, loss, sim]).detach())
        if t == steps:
            break
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    return torch.stack(rows, 2).numpy().astype(np.float32)


def write(d, name, net, layer, classes, paths, noise, gax, meta, attributions, co_scores,
          gax_trajectory):
    """`noise` = (the model's first noise input [1, 3, H, W], its target)."""
    x = flat_images.batch(paths)
    n = x.shape[0]
    with torch.no_grad():
        logits = net(x)
    targets = logits.argmax(1)
    labels = targets.clone()
    labels[0] = (labels[0] + 1) % classes  # a ground truth that differs from the prediction
    np.save(os.path.join(d, "flat_logits.npy"), logits.numpy())
    meta["flat_images"] = [os.path.basename(p) for p in paths]
    meta["flat_targets"] = targets.tolist()
    meta["flat_co_labels"] = labels.tolist()
    # Batched: the flat images and the noise image together.
    xb = torch.cat([x, noise[0]])
    tb = torch.cat([targets, torch.tensor([noise[1]])])
    lb = torch.cat([labels, torch.tensor([noise[1]])])
    attrs = attributions(net, layer, xb.clone(), tb)
    for m, a in attrs.items():
        np.save(os.path.join(d, f"flat_attr_{m}.npy"), a.numpy().astype(np.float32))
    np.save(os.path.join(d, "flat_co.npy"), co_scores(net, xb, attrs, lb, classes))
    # One image at a time.
    singles = [attributions(net, layer, x[i:i + 1].clone(), targets[i:i + 1]) for i in range(n)]
    for m in singles[0]:
        a = torch.cat([s[m] for s in singles])
        np.save(os.path.join(d, f"flat_single_attr_{m}.npy"), a.numpy().astype(np.float32))
    co = [co_scores(net, x[i:i + 1], singles[i], labels[i:i + 1], classes) for i in range(n)]
    np.save(os.path.join(d, "flat_single_co.npy"), np.concatenate(co, axis=2))
    # Bits: one image alone.
    k = flat_images.NAMES.index("blocks")
    xk = x[k:k + 1].clone().requires_grad_(True)
    rec = Recorder(net, tap_modules(name))
    out = net(xk)
    rec.remove()
    for tap, a in rec.out.items():
        np.save(os.path.join(d, f"flat_act_{tap}.npy"), a.numpy())
    np.save(os.path.join(d, "flat_act_logits.npy"), out.detach().numpy())
    (g,) = torch.autograd.grad(out[0, targets[k]], xk)
    np.save(os.path.join(d, "flat_grad.npy"), g.numpy())
    meta["flat_bits_image"] = k
    meta["flat_taps"] = list(rec.out)
    if gax:
        k = flat_images.NAMES.index(gax)
        x2 = torch.cat([x[k:k + 1], noise[0]])
        l2 = torch.tensor([int(targets[k]), noise[1]])
        for variant in ["sum", "mult"]:
            rows = gax_trajectory(net, x[k:k + 1], int(targets[k]), classes, variant)
            np.save(os.path.join(d, f"flat_gax_{variant}.npy"), np.stack(rows))
            np.save(os.path.join(d, f"flat_gax2_{variant}.npy"), gax_batched(net, x2, l2, classes, variant))
        meta["flat_gax_image"] = k

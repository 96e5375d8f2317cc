"""Captum side of the dataset benchmark: the paper's loop, one image at a time, all six methods
and both AX variants (attribution for the predicted class, h = a / max|a|, CO against the label).

Usage: python bench/dataset_captum.py WEIGHTS.safetensors DATA_DIR
(WEIGHTS: torchvision resnet34 names; DATA_DIR: class subfolders, labels by sorted folder order.)
"""
import glob
import os
import sys
import time
import warnings

import numpy as np
import torch
import torchvision
from PIL import Image
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from make_reference import Normalized, adjust  # noqa: E402

import captum.attr as ca  # noqa: E402

warnings.filterwarnings("ignore")


def main(weights, data):
    inner = adjust(torchvision.models.resnet34(weights=None))
    inner.load_state_dict(load_file(weights), strict=False)
    net = Normalized(inner).eval()
    classes = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)) and d != "masks")
    items = [(f, c) for c, name in enumerate(classes) for f in sorted(glob.glob(os.path.join(data, name, "*.png")))]
    methods = {
        "Saliency": lambda x, t: ca.Saliency(net).attribute(x, target=t, abs=False),
        "InputXGradient": lambda x, t: ca.InputXGradient(net).attribute(x, target=t),
        "LayerGradCam": lambda x, t: ca.LayerAttribution.interpolate(
            ca.LayerGradCam(net, inner.conv1).attribute(x, target=t), (256, 256), interpolate_mode="bilinear").expand(-1, 3, -1, -1),
        "Deconvolution": lambda x, t: ca.Deconvolution(net).attribute(x, target=t),
        "GuidedBackprop": lambda x, t: ca.GuidedBackprop(net).attribute(x, target=t),
        "DeepLift": lambda x, t: ca.DeepLift(net).attribute(x, target=t),
    }
    start = time.perf_counter()
    for f, label in items:
        img = Image.open(f).convert("RGB").resize((256, 256), Image.BILINEAR)
        x = torch.tensor(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255)[None]
        with torch.no_grad():
            y0 = net(x)
        t = int(y0.argmax(1))
        kappa = torch.full((1, y0.shape[1]), -1.0 / (y0.shape[1] - 1))
        kappa[0, label] = 1.0
        for m in methods.values():
            a = m(x, t)
            h = a / a.abs().max()
            with torch.no_grad():
                for xp in (x + h, x * h):
                    float(((net(xp) - y0) * kappa).sum())
    dt = time.perf_counter() - start
    print(f"captum loop resnet34: {len(items)} images x 6 methods x 2 variants in {dt:.1f} s = {len(items) / dt:.3f} images/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

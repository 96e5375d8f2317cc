"""Grayscale test images with large constant regions, where equal values tie in every max-pool
window and ReLU and a one-ulp input difference moves attributions by percent (issue #13).

Each is written as a PNG that the Rust tests decode with the project's own decoder; the
reference reads the same file as torchvision's `ToTensor` does (PIL, NumPy, `/ 255` or
`/ 65535` in float32, gray replicated to three channels). All are 256×256, the models' size.

  page     a synthetic scanned page: white paper (255), a flat gray scanner margin, dark text
           strokes (34) with anti-aliased edges
  phantom  assets/samples/normal_2.png, a synthetic radiograph with a flat black background
  blocks   flat blocks of 0, 255, 198, 199, 128, 60, 30 and 220 (saturated areas, and the
           198/199 pair the issue found failing)
  xray8    RG1_UNCR.dcm from pydicom-data 1.0.0 (a real computed radiograph, MONOCHROME1,
  xray16   15 bits stored): pydicom 3.0.2's modality LUT then VOI LUT (the file's window),
           normalised by the VOI output range, inverted, resized to 256×256 (torchvision,
           antialiased), stored as 8-bit and as 16-bit PNG
"""
import os
import shutil

import numpy as np
import pydicom
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from pydicom.pixels import apply_modality_lut, apply_voi_lut

SIZE = 256
NAMES = ["page", "phantom", "blocks", "xray8", "xray16"]


def page(rng):
    a = np.full((SIZE, SIZE), 255, dtype=np.uint8)
    a[:, :14] = 236  # the scanner lid's shadow along one edge
    for y0 in range(28, SIZE - 24, 17):
        x = 26
        while x < SIZE - 30:
            word = int(rng.integers(8, 36))
            for s in range(x, min(x + word, SIZE - 20), 3):
                top = y0 + int(rng.integers(0, 3))
                a[top:y0 + 9, s] = 34
                if rng.random() < 0.5:
                    a[top:y0 + 9, s + 1] = 150  # an anti-aliased stroke edge
            a[y0 + 8, x:min(x + word, SIZE - 20)] = 34
            x += word + int(rng.integers(5, 9))
    return a


def blocks():
    values = [[0, 255, 198, 199], [128, 0, 255, 60], [199, 198, 255, 0], [30, 255, 0, 220]]
    a = np.zeros((SIZE, SIZE), dtype=np.uint8)
    step = SIZE // 4
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            a[i * step:(i + 1) * step, j * step:(j + 1) * step] = v
    a[100:156, 100:156] = 199  # one block straddling four others
    return a


def xray():
    """RG1_UNCR as [0, 1] float32 256×256 (see the module docstring)."""
    import data_store  # pydicom-data 1.0.0

    ds = pydicom.dcmread(os.path.join(os.path.dirname(data_store.__file__), "data", "RG1_UNCR.dcm"))
    assert ds.PhotometricInterpretation == "MONOCHROME1" and "WindowCenter" in ds
    v = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds, prefer_lut=True)
    # A center/width window maps onto the stored values' own range (pydicom's output range).
    bits = int(ds.BitsStored)
    lo, hi = (0, 2 ** bits - 1) if ds.PixelRepresentation == 0 else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    lo, hi = lo * slope + intercept, hi * slope + intercept
    v = 1.0 - (v - lo) / (hi - lo)
    t = TF.resize(torch.from_numpy(v.astype(np.float32))[None], [SIZE, SIZE], antialias=True)
    return t[0].clamp(0, 1).numpy()


def write(out, repo):
    """Writes the images to `out` and returns their paths in NAMES order."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1302)
    Image.fromarray(page(rng)).save(os.path.join(out, "page.png"))
    shutil.copyfile(os.path.join(repo, "assets", "samples", "normal_2.png"), os.path.join(out, "phantom.png"))
    Image.fromarray(blocks()).save(os.path.join(out, "blocks.png"))
    v = xray()
    Image.fromarray(np.round(v * 255).astype(np.uint8)).save(os.path.join(out, "xray8.png"))
    Image.fromarray(np.round(v * 65535).astype(np.uint16)).save(os.path.join(out, "xray16.png"))
    return [os.path.join(out, f"{n}.png") for n in NAMES]


def load(path):
    """The file as the reference pipeline feeds it: float32 [3, H, W] in [0, 1]."""
    im = Image.open(path)
    a = np.asarray(im)
    if a.dtype == np.uint16:
        x = a.astype(np.float32) / np.float32(65535)
    else:
        assert im.mode == "L", (path, im.mode)
        x = a.astype(np.float32) / np.float32(255)
    assert x.shape == (SIZE, SIZE), x.shape
    return np.ascontiguousarray(np.broadcast_to(x, (3, SIZE, SIZE)))


def batch(paths):
    return torch.from_numpy(np.stack([load(p) for p in paths]))

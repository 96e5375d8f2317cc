"""Decode + resize timing, the reference side (issue #13): PIL `open` + `convert("RGB")`,
torchvision `ToTensor` (value / 255, 16-bit: / 65535), `Resize(256, antialias=True)` on the tensor.
Writes the test images first; `examples/decode_time.rs` times ours on the same files.

Usage: .venv/bin/python bench/decode_time.py DIR [REPEATS]
"""
import os
import sys
import time

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

torch.set_num_threads(max(1, os.cpu_count() or 1))
CASES = [("gray8_256", 256, np.uint8), ("gray8_1024", 1024, np.uint8), ("gray16_2048", 2048, np.uint16)]


def write(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, side, dtype in CASES:
        hi = np.iinfo(dtype).max
        a = rng.integers(0, hi + 1, (side, side), dtype=dtype)
        a[: side // 2, : side // 2] = hi // 3  # a flat quarter, as radiograph backgrounds have
        Image.fromarray(a).save(os.path.join(out, f"{name}.png"))


def load(path):
    im = Image.open(path)
    a = np.asarray(im)
    if a.dtype == np.uint16:
        x = torch.from_numpy(a.astype(np.float32) / np.float32(65535))[None].expand(3, -1, -1)
    else:
        x = torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1).float().div(255)
    if x.shape[1:] != (256, 256):
        x = TF.resize(x, [256, 256], antialias=True)
    return x.contiguous()


def main(out, repeats):
    write(out)
    for name, side, _ in CASES:
        path = os.path.join(out, f"{name}.png")
        load(path)
        t = time.perf_counter()
        for _ in range(repeats):
            load(path)
        ms = (time.perf_counter() - t) / repeats * 1e3
        print(f"PIL + torchvision {name} ({side}×{side} → 256×256): {ms:.2f} ms per image", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)

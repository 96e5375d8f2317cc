"""Decoding and resizing fixtures: image files of every pixel format with the float32 arrays the
reference pipeline makes of them, for `tests/decode.rs` to compare bit for bit.

The reference for each file (written as `<name>.npy`, float32 [3, H, W] C order):
  - 8-bit and lower (1/2/4-bit gray, gray+alpha, RGB, RGBA, palettes with and without
    transparency, BMP, 8-bit TIFF): PIL's `convert("RGB")` (gray replicated, alpha dropped, not
    composited; palettes looked up; 1/2/4-bit gray scaled to 0..255 as PIL unpacks it), then
    `arr.astype(np.float32) / np.float32(255)`: torchvision's `ToTensor` numbers.
  - 16-bit (gray, gray+alpha, RGB, RGBA PNG; gray TIFF): the file's own 16-bit samples, read by
    torchvision's `decode_png` (PNG) or PIL (TIFF, mode I;16), alpha dropped, gray replicated,
    `/ np.float32(65535)`. (PIL's `convert("RGB")` would keep only the high byte of 16-bit
    colour; SPEC §9 keeps the depth.)

Resizing (`resize_*`): a [0, 1] float32 image resized with torchvision's
`transforms.functional.resize(tensor, [256, 256], antialias=True)` (bilinear, antialiased, the
same libtorch kernel), both as one gray plane and as the RGB image PIL's `convert("RGB")` makes.

`cases.json` lists every case: file, source channels (1 gray, 3 colour) and bits.
"""
import json
import os
import struct
import zlib

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.io import ImageReadMode, decode_png


def _chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def write_png(path, rows, width, height, bit_depth, color_type, plte=None, trns=None):
    """A PNG written by hand (PIL cannot write 2/4-bit gray or 16-bit colour): `rows` are the
    packed scanline bytes, each given filter type 0."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    body = _chunk(b"IHDR", ihdr)
    if plte is not None:
        body += _chunk(b"PLTE", plte)
    if trns is not None:
        body += _chunk(b"tRNS", trns)
    body += _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + body)


def packed_rows(values, bits):
    """Rows of sub-byte samples packed most significant bit first, as PNG stores them."""
    rows = []
    per = 8 // bits
    for row in values:
        padded = list(row) + [0] * (-len(row) % per)
        out = bytearray()
        for i in range(0, len(padded), per):
            byte = 0
            for v in padded[i:i + per]:
                byte = (byte << bits) | int(v)
            out.append(byte)
        rows.append(bytes(out))
    return rows


def _pil_rgb(path):
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return (rgb.astype(np.float32) / np.float32(255)).transpose(2, 0, 1)


def _png16_rgb(path):
    data = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.uint8)
    t = decode_png(data, ImageReadMode.UNCHANGED)
    assert t.dtype == torch.uint16, t.dtype
    a = t.numpy().astype(np.float32) / np.float32(65535)
    c = a.shape[0]
    colour = a[:1] if c in (1, 2) else a[:3]
    return np.broadcast_to(colour, (3,) + a.shape[1:]).copy()


def _tiff16_rgb(path):
    im = Image.open(path)
    assert im.mode == "I;16", im.mode
    a = np.asarray(im).astype(np.float32) / np.float32(65535)
    return np.broadcast_to(a, (3,) + a.shape).copy()


def _with_flat(a, value, rng):
    """Integer samples: noise with a flat block and a saturated corner (ties in any pooling)."""
    h, w = a.shape[:2]
    a[: h // 2, : w // 2] = value
    a[-2:, -2:] = rng.integers(0, 2) * np.iinfo(a.dtype).max
    return a


def write_cases(out):
    """Writes every decoding and resizing case to `out` and returns their descriptions."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1301)
    cases = []

    def add(name, ext, channels, bits, reference):
        path = os.path.join(out, f"{name}.{ext}")
        ref = reference(path)
        assert ref.dtype == np.float32 and ref.shape[0] == 3, (name, ref.shape)
        np.save(os.path.join(out, f"{name}.npy"), np.ascontiguousarray(ref))
        cases.append({"name": name, "file": f"{name}.{ext}", "channels": channels, "bits": bits})

    # 8-bit gray at odd sizes, with a flat block of 198 and a saturated corner.
    for name, (h, w) in {"gray8_7x5": (5, 7), "gray8_33x17": (17, 33)}.items():
        g = _with_flat(rng.integers(0, 256, (h, w), dtype=np.uint8), 198, rng)
        Image.fromarray(g, "L").save(os.path.join(out, f"{name}.png"))
        add(name, "png", 1, 8, _pil_rgb)
    # 1-, 2- and 4-bit gray (hand-written PNGs; PIL unpacks them scaled to 0..255).
    for bits in (1, 2, 4):
        h, w = 6, 11
        v = rng.integers(0, 1 << bits, (h, w))
        name = f"gray{bits}_11x6"
        write_png(os.path.join(out, f"{name}.png"), packed_rows(v, bits), w, h, bits, 0)
        add(name, "png", 1, 8, _pil_rgb)
    # 8-bit gray with a transparent key (tRNS): alpha is dropped.
    g = rng.integers(0, 256, (4, 9), dtype=np.uint8)
    g[1, :] = 77
    write_png(os.path.join(out, "gray8_trns.png"), [r.tobytes() for r in g], 9, 4, 8, 0,
              trns=struct.pack(">H", 77))
    add("gray8_trns", "png", 1, 8, _pil_rgb)
    # 8-bit gray + alpha.
    la = rng.integers(0, 256, (5, 6, 2), dtype=np.uint8)
    la[0, :, 1] = 0
    Image.fromarray(la, "LA").save(os.path.join(out, "gray_alpha8.png"))
    add("gray_alpha8", "png", 1, 8, _pil_rgb)
    # 16-bit gray at an odd size, with a flat block and saturation.
    g16 = _with_flat(rng.integers(0, 65536, (4, 9), dtype=np.uint16), 50_000, rng)
    write_png(os.path.join(out, "gray16_9x4.png"), [r.astype(">u2").tobytes() for r in g16],
              9, 4, 16, 0)
    add("gray16_9x4", "png", 1, 16, _png16_rgb)
    # 16-bit gray + alpha, RGB and RGBA (hand-written: PIL keeps only 8 bits of these).
    for name, ct, c in [("gray_alpha16", 4, 2), ("rgb16_5x3", 2, 3), ("rgba16", 6, 4)]:
        h, w = 3, 5
        a = rng.integers(0, 65536, (h, w, c), dtype=np.uint16)
        a[0, 0] = 65535
        write_png(os.path.join(out, f"{name}.png"), [r.astype(">u2").tobytes() for r in a], w, h,
                  16, ct)
        add(name, "png", 1 if c <= 2 else 3, 16, _png16_rgb)
    # 8-bit RGB and RGBA at odd sizes (alpha dropped, not composited: transparent pixels too).
    rgb = rng.integers(0, 256, (7, 13, 3), dtype=np.uint8)
    rgb[2:5, 3:9] = (198, 198, 199)
    Image.fromarray(rgb, "RGB").save(os.path.join(out, "rgb8_13x7.png"))
    add("rgb8_13x7", "png", 3, 8, _pil_rgb)
    rgba = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    rgba[:, :2, 3] = 0
    Image.fromarray(rgba, "RGBA").save(os.path.join(out, "rgba8.png"))
    add("rgba8", "png", 3, 8, _pil_rgb)
    # Palettes: 8-bit, 4-bit and 1-bit indices, with and without transparency.
    pal = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    for name, bits, colours, trns in [("palette8", 8, 256, None),
                                      ("palette8_trns", 8, 200, bytes(range(0, 200, 2))),
                                      ("palette4_trns", 4, 16, bytes([0, 255, 128])),
                                      ("palette1", 1, 2, None)]:
        h, w = 6, 10
        idx = rng.integers(0, colours, (h, w))
        rows = [bytes(int(v) for v in r) for r in idx] if bits == 8 else packed_rows(idx, bits)
        write_png(os.path.join(out, f"{name}.png"), rows, w, h, bits, 3,
                  plte=pal[:colours].tobytes(), trns=trns)
        add(name, "png", 3, 8, _pil_rgb)
    # BMP (8-bit gray, written by PIL with a gray palette) and TIFF (8- and 16-bit gray).
    g = _with_flat(rng.integers(0, 256, (9, 14), dtype=np.uint8), 250, rng)
    Image.fromarray(g, "L").save(os.path.join(out, "gray8.bmp"))
    add("gray8", "bmp", 3, 8, _pil_rgb)
    Image.fromarray(g, "L").save(os.path.join(out, "gray8.tif"))
    add("gray8", "tif", 1, 8, _pil_rgb)
    g16 = _with_flat(rng.integers(0, 65536, (5, 6), dtype=np.uint16), 1234, rng)
    Image.fromarray(g16).save(os.path.join(out, "gray16.tif"))
    add("gray16", "tif", 1, 16, _tiff16_rgb)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    write_resize_cases(out, rng)
    return cases


def write_resize_cases(out, rng):
    """A 300×257 8-bit gray image with flat blocks and a 61×47 16-bit one, resized to 256×256 by
    torchvision as one gray plane and as RGB."""
    g = rng.integers(0, 256, (257, 300), dtype=np.uint8)
    g[20:140, 30:200] = 198
    g[150:, 210:] = 255
    g[:40, 250:] = 0
    Image.fromarray(g, "L").save(os.path.join(out, "resize_gray8.png"))
    g16 = rng.integers(0, 65536, (47, 61), dtype=np.uint16)
    g16[10:30, 5:40] = 40_000
    Image.fromarray(g16).save(os.path.join(out, "resize_gray16.png"))
    for name, rgb in [("resize_gray8", _pil_rgb), ("resize_gray16", _png16_rgb)]:
        path = os.path.join(out, f"{name}.png")
        x = torch.from_numpy(rgb(path))
        as_rgb = TF.resize(x, [256, 256], antialias=True)
        as_gray = TF.resize(x[:1], [256, 256], antialias=True)
        np.save(os.path.join(out, f"{name}_rgb.npy"), as_rgb.numpy())
        np.save(os.path.join(out, f"{name}_plane.npy"), as_gray.numpy())

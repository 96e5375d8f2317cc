"""Seed corpora for the fuzz targets, written to fuzz/corpus/<target>/ (committed, under 2 MB).

    .venv/bin/python fuzz/make_seeds.py [REFERENCE_DIR]

Sources, all local (no network): tests/data/bad (hand-made bad files), the shipped models'
cards, the small PNG/TIFF/BMP/DICOM files that `make reference` writes under REFERENCE_DIR
(default $HEATMAP_REFERENCE_DIR or target/reference; skipped when absent), a few tiny images
encoded here with Pillow, valid run files written by hand in the safetensors layout, and valid
review states (tests/data/bad holds the bad ones).
Each seed is named by its source; rerunning replaces the seeds this script made and keeps any
the fuzzer added.
"""
import io
import json
import os
import shutil
import struct
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
BAD = os.path.join(ROOT, "tests", "data", "bad")
MAX_SEED = 16 * 1024
MAX_DICOM_SEED = 12 * 1024


def target_dir(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    return d


def put(target, name, data):
    with open(os.path.join(target_dir(target), "seed_" + name), "wb") as f:
        f.write(data)


def copy_small(target, folder, suffixes, limit=MAX_SEED, prefix="", exclude=()):
    if not os.path.isdir(folder):
        return
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if exclude and name.lower().endswith(exclude):
            continue
        if os.path.isfile(path) and name.lower().endswith(suffixes) and os.path.getsize(path) <= limit:
            shutil.copyfile(path, os.path.join(target_dir(target), "seed_" + prefix + name))


def tiny_images():
    """A few small images in each raster format the decoder reads."""
    rng = np.random.default_rng(15)
    rgb = Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8), "RGB")
    gray = rgb.convert("L")
    for name, img, fmt, kw in [
        ("rgb.jpg", rgb, "JPEG", {"quality": 80}),
        ("gray.jpg", gray, "JPEG", {"quality": 80}),
        ("progressive.jpg", rgb, "JPEG", {"progressive": True}),
        ("rgb.png", rgb, "PNG", {}),
        ("rgb.bmp", rgb, "BMP", {}),
        ("rgb.gif", rgb.convert("P"), "GIF", {}),
        ("rgb.tiff", rgb, "TIFF", {}),
        ("gray_lzw.tiff", gray, "TIFF", {"compression": "tiff_lzw"}),
        ("gray16.tiff", Image.fromarray(np.arange(63, dtype=np.uint16).reshape(9, 7) * 1000), "TIFF", {}),
    ]:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        put("decode_raster", name, buf.getvalue())


def deflated_dicom(path):
    """A small reference DICOM file saved with the deflated transfer syntax."""
    if not os.path.isfile(path):
        return
    import pydicom
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    put("decode_dicom", "deflated.dcm", buf.getvalue())


def safetensors_file(tensors, metadata):
    """A safetensors file from (name, dtype, shape, raw bytes), written by hand."""
    header, blobs, at = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(raw)]}
        blobs += raw
        at += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def run_file(steps, h, w, stop="max_steps", target_co=48.0):
    """A valid run file of `steps` steps on an h×w image, as RunRecord::to_bytes writes it."""
    rng = np.random.default_rng(steps * 100 + h * 10 + w)
    f32 = lambda a: np.asarray(a, dtype="<f4").tobytes()
    tensors = [
        ("abs_max", "F32", [steps], f32(rng.random(steps))),
        ("co", "F32", [steps], f32(rng.random(steps) * 50)),
        ("heatmaps", "F16", [steps, 3, h, w], np.asarray(rng.standard_normal((steps, 3, h, w)), dtype="<f2").tobytes()),
        ("image", "F32", [3, h, w], f32(rng.random((3, h, w)))),
        ("loss", "F32", [steps], f32(-rng.random(steps))),
        ("predicted", "I64", [steps], np.asarray(rng.integers(0, 2, steps), dtype="<i8").tobytes()),
        ("similarity", "F32", [steps], f32(rng.random(steps))),
    ]
    config = {"lr": 0.1, "lambda": 100.0, "target_co": target_co, "max_steps": 500,
              "variant": "sum", "eps": 0.0001, "top_k": 5}
    model = {"arch": "squeezenet1_1", "hash": "ab" * 32, "source": "models/phantom.json",
             "labels": ["NORMAL", "PNEUMONIA"], "normalize": "imagenet"}
    meta = {
        "format": "heatmap-explorer-run/1",
        "config": json.dumps(config),
        "model": json.dumps(model),
        "stop": json.dumps(stop),
        "image_name": "normal_1.png",
        "label": "1",
        "heatmap_explorer": "0.1.0",
        "libtorch": "2.11.0",
    }
    return safetensors_file(tensors, meta)


def main():
    ref = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "HEATMAP_REFERENCE_DIR", os.path.join(ROOT, "target", "reference"))
    for d in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        for name in os.listdir(os.path.join(CORPUS, d)):
            if name.startswith("seed_"):
                os.remove(os.path.join(CORPUS, d, name))

    copy_small("decode_raster", BAD, (".png", ".jpg", ".gif", ".bmp", ".tiff", ".tif"), prefix="bad_")
    copy_small("decode_raster", os.path.join(ref, "decode"), (".png", ".tif", ".tiff", ".bmp"), limit=4096)
    tiny_images()

    copy_small("decode_dicom", BAD, (".dcm",), prefix="bad_")
    copy_small("decode_dicom", os.path.join(ref, "dicom"), (".dcm",), limit=MAX_DICOM_SEED)

    deflated_dicom(os.path.join(ref, "dicom", "mono2_u12_rescale_2win.dcm"))

    copy_small("read_card", BAD, (".json",), prefix="bad_", exclude=(".review.json",))
    copy_small("read_card", os.path.join(ROOT, "models"), (".json",), prefix="model_")
    put("read_card", "minimal.json", b'{"arch": "squeezenet1_1", "classes": 2, "weights": "w.safetensors"}')
    put("read_card", "full.json", json.dumps({
        "arch": "densenet121", "classes": 3, "labels": ["a", "b", "c"], "normalize": "xrv",
        "input_size": [64, 48], "weights": "d.safetensors", "channels": 1, "multilabel": True,
        "accuracy": 0.8125, "trained": {"steps": 100, "lr": 1e-3, "seed": 7},
    }, indent=2).encode())
    put("read_card", "label_file.json", b'{"arch": "resnet34", "classes": 2, "labels": "labels.txt", "weights": "w"}')

    copy_small("read_runfile", BAD, (".run",), prefix="bad_")
    put("read_runfile", "run_2x4x4.run", run_file(2, 4, 4))
    put("read_runfile", "run_1x1x1.run", run_file(1, 1, 1, stop=None, target_co=None))
    put("read_runfile", "run_3x2x5.run", run_file(3, 2, 5, stop="target_reached"))
    put("read_runfile", "run_0x3x3.run", run_file(0, 3, 3, stop="cancelled"))

    copy_small("read_review", BAD, (".review.json",), prefix="bad_")
    put("read_review", "empty.json", b'{"version": 1, "cases": {}}')
    put("read_review", "full.json", json.dumps({
        "version": 1,
        "cases": {
            "NORMAL/normal_1.png": {"status": "reviewed", "flag": False, "note": "",
                                    "reviewed_at": "2026-12-04T12:10:45Z"},
            "PNEUMONIA/a b/1.dcm": {"status": "unread", "flag": True,
                                    "note": "left apex, \"faint\"\nsee prior \u00e9\u4e2d\ud83d\ude00",
                                    "reviewed_at": None},
            "x.tiff": {"status": "reviewed", "flag": True, "note": "\t", "reviewed_at": "2000-02-29T23:59:60Z"},
        },
        "current": "PNEUMONIA/a b/1.dcm",
    }, indent=2).encode())
    put("read_review", "compact.json",
        b'{"version":1,"cases":{"a.png":{"status":"unread","flag":false,"note":"n","reviewed_at":null}},"current":null}')

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(CORPUS) for f in fs)
    print(f"{CORPUS}: {total} bytes")


if __name__ == "__main__":
    main()

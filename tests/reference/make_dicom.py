"""DICOM reference outputs for the Rust tests (SPEC §9), made with pydicom 3.0.2.

Writes into OUT_DIR:
  - small synthetic DICOM files made with pydicom (MONOCHROME1 and 2, 8/12/16 bits, signed,
    unused high bits set, rescale, two window presets with explanations, SIGMOID, LINEAR_EXACT,
    VOI LUT sequences, a modality LUT sequence, multi-frame, RLE, Presentation LUT Shape, a flat
    image), every one with patient name, ID, birth date, accession number and institution set;
  - copies of real files from the PyPI packages pydicom-data 1.0.0 (the NEMA chest CR RG1_UNCR
    and its JPEG 2000 lossless twin RG1_J2KR, a CT, a modality-LUT and a VOI-LUT file, a
    big-endian and an RLE multi-frame MR, JPEG lossless, RGB and YBR_FULL secondary captures, a
    JPEG-LS file) and pydicom (a 12-bit JPEG extended file);
  - for every grayscale file, frame and window mode (file, file:N for each preset, auto, p1,
    a custom C,W): pydicom's pipeline output as float32 .npy [H, W]:
        m = apply_modality_lut(pixel_array, ds)
        v = apply_voi_lut(m, ds, prefer_lut=True)   (or the N-th preset, or C,W, or a range)
        v normalised to [0, 1] (windows by pydicom's output range, LUTs by 2^bits − 1,
        ranges clamped), then inverted (v → 1 − v) when Presentation LUT Shape is INVERSE, or
        when it is absent and the image is MONOCHROME1 (DCMTK's rule);
  - for colour files the RGB planes [3, H, W] / (2^bits − 1);
  - torchvision-equivalent resizes (antialiased bilinear) of two outputs;
  - manifest.json listing all of it.

Usage: python make_dicom.py OUT_DIR
"""
import copy
import json
import os
import shutil
import sys

import numpy as np
import pydicom
import torch
import torch.nn.functional as F
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi, apply_voi_lut, apply_windowing
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

import data_store

assert pydicom.__version__ == "3.0.2", pydicom.__version__

DATA_STORE = os.path.join(os.path.dirname(data_store.__file__), "data")
PYDICOM_FILES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
IDENTIFIERS = {
    "PatientName": "Doe^Jane^Secret",
    "PatientID": "PID-7391-XQ",
    "PatientBirthDate": "19361224",
    "AccessionNumber": "ACC-55410-ZZ",
    "InstitutionName": "St Hidden Infirmary",
}
CR = "1.2.840.10008.5.1.4.1.1.1"
SC = "1.2.840.10008.5.1.4.1.1.7"


def base(name, rows, cols, alloc, stored, signed, photometric, frames=1, modality="DX"):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR if modality in ("CR", "DX") else SC
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[name])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    for k, v in IDENTIFIERS.items():
        setattr(ds, k, v)
    ds.Modality = modality
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PixelSpacing = [0.2, 0.25]
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = alloc, stored, stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def set_pixels(ds, arr):
    """Stores `arr` (already holding the raw stored words, unused bits included)."""
    dtype = {8: np.uint8, 16: np.uint16}[ds.BitsAllocated]
    raw = arr.astype(np.int64) & ((1 << ds.BitsAllocated) - 1)
    ds.add_new(0x7FE00010, "OB" if ds.BitsAllocated == 8 else "OW", raw.astype(dtype).tobytes())


def ramp(rng, shape, lo, hi):
    """A smooth ramp with noise and a flat block, integers in [lo, hi]."""
    h, w = shape[-2:]
    y, x = np.mgrid[0:h, 0:w]
    base = lo + (hi - lo) * ((x / max(w - 1, 1)) * 0.7 + (y / max(h - 1, 1)) * 0.3)
    v = base + rng.normal(0, (hi - lo) * 0.05, size=shape)
    v = np.clip(np.rint(v), lo, hi).astype(np.int64)
    v[..., : h // 4, : w // 4] = (lo + hi) // 2
    return v


def lut_item(first, bits, data, explanation=None):
    item = Dataset()
    item.add_new(0x00283002, "US", [len(data) if len(data) < 65536 else 0, first, bits])
    item.add_new(0x00283006, "US", [int(d) for d in data])
    if explanation:
        item.LUTExplanation = explanation
    return item


def synthetic(out, rng):
    files = {}

    ds = base("u12", 29, 37, 16, 12, False, "MONOCHROME2")
    v = ramp(rng, (29, 37), 0, 4095)
    set_pixels(ds, v | (rng.integers(0, 16, size=v.shape) << 12))  # garbage in unused bits
    ds.RescaleSlope, ds.RescaleIntercept = 2.5, -1000
    ds.WindowCenter, ds.WindowWidth = [1500, 7000], [2000, 800]
    ds.WindowCenterWidthExplanation = ["LUNG", "BONE"]
    files["mono2_u12_rescale_2win.dcm"] = ds

    ds = base("u8", 31, 23, 8, 8, False, "MONOCHROME1", modality="CR")
    set_pixels(ds, ramp(rng, (31, 23), 0, 255))
    ds.WindowCenter, ds.WindowWidth = 128, 200
    files["mono1_u8.dcm"] = ds

    ds = base("s16", 27, 33, 16, 16, True, "MONOCHROME2", modality="CT")
    set_pixels(ds, ramp(rng, (27, 33), -1000, 3000))
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.VOILUTFunction = "LINEAR_EXACT"
    files["signed_s16_linear_exact.dcm"] = ds

    ds = base("s12", 25, 30, 16, 12, True, "MONOCHROME2")
    v = ramp(rng, (25, 30), -2048, 2047)
    # Two's complement in 12 bits, with unused bits set to garbage rather than the sign.
    set_pixels(ds, (v & 0xFFF) | (rng.integers(0, 16, size=v.shape) << 12))
    ds.WindowCenter, ds.WindowWidth = 100, 1500
    ds.VOILUTFunction = "SIGMOID"
    files["signed_s12_sigmoid.dcm"] = ds

    ds = base("voilut", 24, 35, 16, 10, False, "MONOCHROME2")
    set_pixels(ds, ramp(rng, (24, 35), 0, 1023))
    curve = np.rint(65535 * (np.arange(700) / 699.0) ** 0.6).astype(np.int64)
    steps = np.rint(4095 * (np.arange(1024) / 1023.0) ** 2).astype(np.int64)
    ds.VOILUTSequence = Sequence([lut_item(100, 16, curve, "GAMMA 0.6"), lut_item(0, 12, steps)])
    ds.WindowCenter, ds.WindowWidth = 500, 600
    files["voi_lut_2_and_window.dcm"] = ds

    ds = base("mlut", 26, 21, 16, 12, False, "MONOCHROME2")
    set_pixels(ds, ramp(rng, (26, 21), 0, 4095))
    mcurve = np.rint(60000 * np.sqrt(np.arange(4000) / 3999.0)).astype(np.int64)
    ds.ModalityLUTSequence = Sequence([lut_item(50, 16, mcurve)])
    ds.ModalityLUTSequence[0].ModalityLUTType = "US"
    ds.WindowCenter, ds.WindowWidth = 30000, 40000
    files["modality_lut.dcm"] = ds

    ds = base("mf", 20, 22, 16, 16, False, "MONOCHROME2", frames=3)
    set_pixels(ds, np.stack([ramp(rng, (20, 22), 100 * k, 30000 + 10000 * k) for k in range(3)]))
    ds.WindowCenter, ds.WindowWidth = 20000, 30000
    files["multiframe_u16.dcm"] = ds

    ds = base("rle", 19, 23, 16, 14, False, "MONOCHROME1", frames=2, modality="CR")
    arr = np.stack([ramp(rng, (19, 23), 0, 16383) for _ in range(2)])
    set_pixels(ds, arr)
    ds.WindowCenter, ds.WindowWidth = 8000, 12000
    ds.compress(RLELossless, arr.astype(np.uint16), encoding_plugin="pydicom", generate_instance_uid=False)
    files["rle_u14_2frame_mono1.dcm"] = ds

    ds = base("plutinv", 17, 19, 8, 8, False, "MONOCHROME2")
    set_pixels(ds, ramp(rng, (17, 19), 0, 255))
    ds.PresentationLUTShape = "INVERSE"
    files["mono2_plut_inverse.dcm"] = ds

    ds = base("plutid", 17, 19, 8, 8, False, "MONOCHROME1")
    set_pixels(ds, ramp(rng, (17, 19), 0, 255))
    ds.PresentationLUTShape = "IDENTITY"
    ds.WindowCenter, ds.WindowWidth = 100, 120
    files["mono1_plut_identity.dcm"] = ds

    ds = base("flat", 16, 18, 16, 16, False, "MONOCHROME2")
    set_pixels(ds, np.full((16, 18), 1000))
    files["flat_u16_no_voi.dcm"] = ds

    for name, ds in files.items():
        ds.save_as(os.path.join(out, name), enforce_file_format=True)
    return list(files)


REAL = [
    (DATA_STORE, "RG1_UNCR.dcm"),
    (DATA_STORE, "RG1_J2KR.dcm"),
    (DATA_STORE, "693_UNCR.dcm"),
    (DATA_STORE, "mlut_18.dcm"),
    (DATA_STORE, "vlut_04.dcm"),
    (DATA_STORE, "emri_small_big_endian.dcm"),
    (DATA_STORE, "emri_small_RLE.dcm"),
    (DATA_STORE, "JPEG-LL.dcm"),
    (DATA_STORE, "SC_rgb.dcm"),
    (DATA_STORE, "SC_ybr_full_uncompressed.dcm"),
]
REFUSED = [
    (DATA_STORE, "emri_small_jpeg_ls_lossless.dcm", "JPEG-LS Lossless"),
    (PYDICOM_FILES, "JPEG-lossy.dcm", "JPEG Extended"),
]


def presets(ds):
    """SPEC §9's preset order: VOI LUT Sequence items, then valid window center/width pairs."""
    out = [("lut", i) for i in range(len(ds.get("VOILUTSequence", [])))]
    func = str(ds.get("VOILUTFunction", "LINEAR")).strip().upper()
    if "WindowCenter" in ds and "WindowWidth" in ds and func in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        c = ds["WindowCenter"].value
        w = ds["WindowWidth"].value
        c = list(c) if ds["WindowCenter"].VM > 1 else [c]
        w = list(w) if ds["WindowWidth"].VM > 1 else [w]
        for j, (cc, ww) in enumerate(zip(c, w)):
            if ww >= 1 if func == "LINEAR" else ww > 0:
                out.append(("window", j))
    return out


def y_range(ds):
    """pydicom 3.0.2 apply_windowing's output range."""
    if ds.get("ModalityLUTSequence"):
        y_min, y_max = 0, 2 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
    elif ds.PixelRepresentation == 0:
        y_min, y_max = 0, 2 ** ds.BitsStored - 1
    else:
        y_min, y_max = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
    if ds.get("RescaleSlope") is not None and ds.get("RescaleIntercept") is not None:
        y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return float(y_min), float(y_max)


def norm_window(v, ds):
    y_min, y_max = y_range(ds)
    return (v.astype(np.float64) - y_min) / (y_max - y_min)


def norm_lut(v, ds, index):
    return v.astype(np.float64) / (2.0 ** ds.VOILUTSequence[index].LUTDescriptor[2] - 1)


def value_range(m, lo, hi):
    m = m.astype(np.float64)
    if hi > lo:
        return np.clip((m - lo) / (hi - lo), 0.0, 1.0)
    return (m > lo).astype(np.float64)


def inverted(ds):
    shape = str(ds.get("PresentationLUTShape", "")).strip().upper()
    if shape in ("INVERSE", "IDENTITY"):
        return shape == "INVERSE"
    return ds.PhotometricInterpretation == "MONOCHROME1"


def custom_window(m):
    lo, hi = float(np.min(m)), float(np.max(m))
    return round((lo + hi) / 2), max(1, round((hi - lo) / 3))


def pipeline(ds, m, mode):
    """[0, 1] output of `mode` on modality values `m` (before inversion) and a description."""
    ps = presets(ds)
    if mode == "file":
        if not ps:
            return value_range(m, m.min(), m.max())
        out = apply_voi_lut(m, ds, index=0, prefer_lut=True)
        return norm_lut(out, ds, 0) if ps[0][0] == "lut" else norm_window(out, ds)
    if mode.startswith("file:"):
        kind, i = ps[int(mode[5:])]
        if kind == "lut":
            return norm_lut(apply_voi(m, ds, index=i), ds, i)
        return norm_window(apply_windowing(m, ds, index=i), ds)
    if mode == "auto":
        return value_range(m, m.min(), m.max())
    if mode.startswith("p"):
        p = float(mode[1:])
        lo, hi = np.percentile(m.astype(np.float64), [p, 100 - p])
        return value_range(m, lo, hi)
    c, w = (float(x) for x in mode.split(","))
    small = Dataset()
    for k in ("PhotometricInterpretation", "BitsStored", "PixelRepresentation", "RescaleSlope",
              "RescaleIntercept", "ModalityLUTSequence"):
        if k in ds:
            setattr(small, k, copy.deepcopy(ds[k].value))
    small.WindowCenter, small.WindowWidth = c, w
    return norm_window(apply_voi_lut(m, small, prefer_lut=True), small)


def frame_array(ds, arr, frame):
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return arr[frame] if frames > 1 else arr


def main(out):
    os.makedirs(out, exist_ok=True)
    exp_dir = os.path.join(out, "expected")
    os.makedirs(exp_dir, exist_ok=True)
    rng = np.random.default_rng(16)
    names = synthetic(out, rng)
    for src, name in REAL:
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
        names.append(name)
    refused = []
    for src, name, syntax in REFUSED:
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
        uid = str(pydicom.dcmread(os.path.join(out, name), stop_before_pixels=True).file_meta.TransferSyntaxUID)
        refused.append({"file": name, "syntax": syntax, "uid": uid})

    cases, files, resized = [], {}, []
    saved = {}  # identical outputs (RG1's lossless twin) share one array
    for name in names:
        ds = pydicom.dcmread(os.path.join(out, name))
        arr = ds.pixel_array
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        colour = ds.SamplesPerPixel == 3
        ps = [] if colour else presets(ds)
        files[name] = {
            "rows": int(ds.Rows), "columns": int(ds.Columns), "frames": frames,
            "bits_stored": int(ds.BitsStored), "photometric": str(ds.PhotometricInterpretation),
            "transfer_syntax_uid": str(ds.file_meta.TransferSyntaxUID), "presets": len(ps),
            "colour": colour, "inverted": (not colour) and inverted(ds),
            "modality": str(ds.get("Modality", "")) or None,
        }
        frame_list = [0] if frames == 1 else [0, frames - 1]
        for frame in frame_list:
            a = frame_array(ds, arr, frame)
            if colour:
                v = np.transpose(a, (2, 0, 1)).astype(np.float64) / (2.0 ** ds.BitsStored - 1)
                modes = ["file"]
            else:
                m = apply_modality_lut(a, ds)
                c, w = custom_window(m)
                modes = ["file"] + [f"file:{i}" for i in range(len(ps))] + ["auto", "p1", f"{c},{w}"]
                if name.startswith("RG1"):
                    modes = ["file", "auto", "p1", "20000,25000"]
            for mode in modes:
                if not colour:
                    v = pipeline(ds, m, mode)
                    if inverted(ds):
                        v = 1.0 - v
                v32 = v.astype(np.float32)
                key = name.replace("J2KR", "UNCR") if name.startswith("RG1") else name
                fname = f"{key[:-4]}.f{frame}.{mode.replace(':', '_').replace(',', '_')}.npy"
                path = os.path.join(exp_dir, fname)
                if fname in saved:
                    assert np.array_equal(saved[fname], v32), f"{name}: lossless twin differs"
                else:
                    np.save(path, v32)
                    saved[fname] = v32
                cases.append({"file": name, "frame": frame, "window": mode, "expected": f"expected/{fname}"})
    # torchvision's Resize on a tensor (antialiased bilinear) of two pipeline outputs.
    for name, mode, size in [("RG1_UNCR.dcm", "file", [256, 256]), ("mono2_u12_rescale_2win.dcm", "file:1", [16, 20])]:
        src = next(c for c in cases if c["file"] == name and c["window"] == mode and c["frame"] == 0)
        x = torch.from_numpy(np.load(os.path.join(out, src["expected"])))[None, None]
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)[0, 0]
        fname = f"expected/{name[:-4]}.{mode.replace(':', '_')}.{size[0]}x{size[1]}.npy"
        np.save(os.path.join(out, fname), y.numpy().astype(np.float32))
        resized.append({"file": name, "window": mode, "size": size, "expected": fname})
    manifest = {"cases": cases, "files": files, "refused": refused, "resized": resized,
                "identifiers": list(IDENTIFIERS.values())}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"dicom references: {len(names)} files, {len(cases)} cases in {out}")


if __name__ == "__main__":
    main(sys.argv[1])

"""pydicom 3.0.2's time for what `heatmap-explorer bench dicom` times: read the file, decode the
pixels and apply SPEC §9's pipeline with the file's VOI (apply_modality_lut, then
apply_voi_lut(prefer_lut=True), normalised to [0, 1] and inverted for MONOCHROME1); median of N.

Usage: python bench/dicom_open.py N FILE...
"""
import sys
import time

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut


def pipeline(path):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    t_decoded = time.perf_counter()
    m = apply_modality_lut(arr, ds)
    v = apply_voi_lut(m, ds, prefer_lut=True).astype(np.float64)
    if ds.get("ModalityLUTSequence") or "RescaleSlope" in ds:
        raise SystemExit(f"{path}: the benchmark's normalisation covers plain windows only")
    lo, hi = (0, 2 ** ds.BitsStored - 1) if ds.PixelRepresentation == 0 else (
        -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1)
    v = (v - lo) / (hi - lo)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        v = 1.0 - v
    return v.astype(np.float32), t_decoded


def main():
    n = int(sys.argv[1])
    for path in sys.argv[2:]:
        opens, windows, totals = [], [], []
        for _ in range(n):
            t0 = time.perf_counter()
            _, t1 = pipeline(path)
            t2 = time.perf_counter()
            opens.append((t1 - t0) * 1e3)
            windows.append((t2 - t1) * 1e3)
            totals.append((t2 - t0) * 1e3)
        name = path.rsplit("/", 1)[-1]
        print(f"pydicom {pydicom.__version__} {name}: read+decode {np.median(opens):.1f} ms, "
              f"window {np.median(windows):.1f} ms, total {np.median(totals):.1f} ms (median of {n})")


if __name__ == "__main__":
    main()

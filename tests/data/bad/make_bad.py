"""Hand-made bad (and a few odd but valid) input files for tests/bad_inputs.rs (issue #15).

Every file here is small and committed; this script rewrites them deterministically:

    .venv/bin/python tests/data/bad/make_bad.py

Files that need the shipped weights (NaN, Inf, missing or mis-shaped tensors) and the file with
a non-UTF-8 name are made by the test itself in a temporary folder, so that nothing large or
unportable is committed.
"""
import io
import json
import os
import struct
import zlib

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

OUT = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- PNG, by hand (no encoder
# choices, so the bytes are the same everywhere)


def chunk(kind, body):
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


SIG = b"\x89PNG\r\n\x1a\n"


def png(width, height, depth, colour, rows, extra=b""):
    """A PNG from raw scanlines (each already prefixed by its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        SIG
        + chunk(b"IHDR", ihdr)
        + extra
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def gray8(width, height):
    rows = [b"\x00" + bytes((x * 7 + y * 13) % 256 for x in range(width)) for y in range(height)]
    return png(width, height, 8, 0, rows)


def pngs():
    good = gray8(32, 32)
    write("empty.png", b"")
    write("text.png", "This is not an image, just text with a .png name.\n")
    write("truncated.png", good[: len(good) // 2])
    # IDAT's CRC flipped: the data are intact, the checksum is not.
    idat = good.index(b"IDAT")
    length = struct.unpack(">I", good[idat - 4 : idat])[0]
    crc_at = idat + 4 + length
    bad_crc = bytearray(good)
    bad_crc[crc_at] ^= 0xFF
    write("bad_crc.png", bytes(bad_crc))
    # IDAT's zlib stream garbled, with a correct CRC over the garbage.
    garbage = bytes((i * 89 + 7) % 256 for i in range(64))
    ihdr = struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0)
    write(
        "corrupt_idat.png",
        SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", garbage) + chunk(b"IEND", b""),
    )
    # A decompression bomb's header: 100000 × 100000 8-bit gray, a handful of bytes of data.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    write(
        "bomb.png",
        SIG
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024, 9))
        + chunk(b"IEND", b""),
    )
    # Colour types the PNG spec forbids: palette at 16 bits, and colour type 5.
    write("palette16.png", png(4, 4, 16, 3, [b"\x00" + b"\x00" * 8] * 4))
    write("colour_type5.png", png(4, 4, 16, 5, [b"\x00" + b"\x00" * 16] * 4))

    # Odd but valid: must decode and predict.
    write("valid_1x1.png", gray8(1, 1))
    write("valid_1x300.png", gray8(1, 300))
    g16 = [
        b"\x00" + b"".join(struct.pack(">H", (x * 4099 + y * 257) % 65536) for x in range(24))
        for y in range(20)
    ]
    write("valid_gray16.png", png(24, 20, 16, 0, g16))
    palette = b"".join(bytes((i * 60 % 256, 255 - i * 60 % 256, i * 30 % 256)) for i in range(4))
    alpha = bytes((0, 85, 170, 255))
    rows = [b"\x00" + bytes((x + y) % 4 for x in range(16)) for y in range(16)]
    write(
        "valid_palette_alpha.png",
        png(16, 16, 8, 3, rows, chunk(b"PLTE", palette) + chunk(b"tRNS", alpha)),
    )


# ---------------------------------------------------------------- other raster formats


def others():
    # BMP: a 54-byte header declaring 100000 × 100000 at 24 bits, and no pixels.
    info = struct.pack("<IiiHHIIiiII", 40, 100_000, 100_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info))
    write("huge.bmp", header + info)
    # JPEG: a real one cut inside its scan, and one whose SOF0 declares 65535 × 65535.
    buf = io.BytesIO()
    y, x = np.mgrid[0:64, 0:64]
    Image.fromarray(((x * 3 + y * 2) % 256).astype(np.uint8), "L").save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    # Cut inside the entropy-coded scan: the headers are whole, the pixels are not.
    scan = jpeg.index(b"\xff\xda")
    write("truncated.jpg", jpeg[: scan + (len(jpeg) - scan) // 2])
    # The same file with its SOF0 patched to declare 65535 × 65535.
    sof = jpeg.index(b"\xff\xc0")
    huge = bytearray(jpeg)
    huge[sof + 5 : sof + 9] = struct.pack(">HH", 65535, 65535)
    write("huge.jpg", bytes(huge))
    # GIF: the magic, then garbage.
    write("garbage.gif", b"GIF89a" + bytes((i * 37 + 11) % 256 for i in range(200)))
    # TIFF: 4 × 4, one sample of 64-bit complex floats (SampleFormat 6).
    write("complex.tiff", tiff(4, 4, bits=64, sample_format=6))
    # TIFF: 4 × 4 at 12 bits per sample, unsigned.
    write("bits12.tiff", tiff(4, 4, bits=12, sample_format=1))


def tiff(width, height, bits, sample_format):
    """A little-endian baseline grayscale TIFF, one uncompressed strip."""
    data = bytes((width * height * bits + 7) // 8)
    entries = [
        (256, 3, 1, width),  # ImageWidth
        (257, 3, 1, height),  # ImageLength
        (258, 3, 1, bits),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: BlackIsZero
        (273, 4, 1, 0),  # StripOffsets (patched below)
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 3, 1, height),  # RowsPerStrip
        (279, 4, 1, len(data)),  # StripByteCounts
        (339, 3, 1, sample_format),  # SampleFormat
    ]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    out = b"II*\x00" + struct.pack("<I", ifd_at) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = data_at
        packed = struct.pack("<HHI", tag, kind, count)
        packed += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += packed
    return out + struct.pack("<I", 0) + data


# ---------------------------------------------------------------- DICOM


def dicom_base(rows=8, cols=8):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.15"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    return ds


def dicom_bytes(ds):
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def dicoms():
    write("empty.dcm", b"")
    write("preamble_only.dcm", bytes(128) + b"DICM")
    # Pixel data declared for 8 × 8 16-bit pixels (128 bytes), only 32 present: the element's
    # length is right for what is there, the image needs more.
    ds = dicom_base()
    ds.add_new(0x7FE00010, "OW", bytes(32))
    write("short_pixels.dcm", dicom_bytes(ds))
    # The file itself cut inside the pixel data element.
    ds = dicom_base()
    ds.add_new(0x7FE00010, "OW", np.arange(64, dtype=np.uint16).tobytes())
    whole = dicom_bytes(ds)
    write("truncated_pixels.dcm", whole[: len(whole) - 60])
    # No Rows and no Columns.
    ds = dicom_base()
    del ds.Rows
    del ds.Columns
    ds.add_new(0x7FE00010, "OW", bytes(128))
    write("no_rows.dcm", dicom_bytes(ds))


# ---------------------------------------------------------------- safetensors, cards, pickle


def safetensors_file(tensors, header_extra=None):
    """A safetensors file from (name, dtype, shape, raw bytes), written by hand."""
    header, blobs, at = {}, b"", 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(raw)]}
        blobs += raw
        at += len(raw)
    if header_extra:
        header["__metadata__"] = header_extra
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def weights():
    one = np.ones(4, dtype=np.float32).tobytes()
    valid = safetensors_file([("features.0.bias", "F32", [4], one)])
    write("empty.safetensors", b"")
    write("truncated.safetensors", valid[: len(valid) - 7])
    garbage = b"{this is not json at all}!!!!!!"
    write("garbage_header.safetensors", struct.pack("<Q", len(garbage)) + garbage + one)
    # The header length says 1 MiB; the file has 100 bytes.
    write("wrong_length.safetensors", struct.pack("<Q", 1 << 20) + valid[8:])
    # Tensors of another architecture (a ResNet's stem and head), each valid.
    write(
        "other_arch.safetensors",
        safetensors_file(
            [
                ("conv1.weight", "F32", [1, 1, 1, 1], np.ones(1, np.float32).tobytes()),
                ("fc.bias", "F32", [2], np.zeros(2, np.float32).tobytes()),
            ]
        ),
    )
    # A pickle checkpoint (protocol 2 of {"w": 1}); never unpickled, refused by name.
    write("checkpoint.pt", b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01K\x01s.")


def cards():
    shipped = "../../../models/phantom_squeezenet.safetensors"
    card = {
        "arch": "squeezenet1_1",
        "classes": 2,
        "labels": ["NORMAL", "PNEUMONIA"],
        "normalize": "imagenet",
        "input_size": [128, 128],
        "weights": shipped,
    }

    def variant(name, **changes):
        c = dict(card)
        c.update(changes)
        write(name, json.dumps(c, indent=2) + "\n")

    write("card_not_json.json", "arch: squeezenet1_1\nclasses: 2\n")
    text = json.dumps(card, indent=2)
    write("card_truncated.json", text[: len(text) // 2])
    variant("card_unknown_arch.json", arch="squeezenet9000")
    variant("card_missing_weights.json", weights="no_such_weights.safetensors")
    variant("card_labels_mismatch.json", labels=["NORMAL", "PNEUMONIA", "COVID"])
    variant("card_bad_input_size.json", input_size=[0, 100000])
    variant("card_pickle.json", weights="checkpoint.pt")
    variant("card_classes_text.json", classes="two")


# ---------------------------------------------------------------- AX CSVs for `merge`

HEADER = "image,label,predicted,correct,method,variant,co,predicted_ax,mask_mass,pointing\n"


def csvs():
    good = "NORMAL/a.png,0,0,true,Saliency,sum,0.5,0,,\n"
    write("csv_wrong_header.csv", "file,class,score\nNORMAL/a.png,0,0.5\n")
    write("csv_unknown_method.csv", HEADER + good + "NORMAL/b.png,0,0,true,Sailency,sum,0.5,0,,\n")
    write("csv_cut.csv", HEADER + good + "PNEUMONIA/c.png,1,")
    # Binary garbage whose last byte ends a line (so it is not taken for a cut-off write).
    write("csv_garbage.csv", bytes((i * 151 + 3) % 256 for i in range(300)) + b"\n")


# ---------------------------------------------------------------- GAX run files


def runs():
    write("run_empty.run", b"")
    write("run_garbage.run", b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"not json, not a header!!")
    # A valid safetensors file without the run format tag.
    write(
        "run_no_format.run",
        safetensors_file(
            [("image", "F32", [3, 1, 1], np.zeros(3, np.float32).tobytes())],
            header_extra={"format": "something-else/1"},
        ),
    )
    # The tag, but no metadata and no tensors.
    write("run_no_tensors.run", safetensors_file([], {"format": "heatmap-explorer-run/1"}))


# ---------------------------------------------------------------- review state (read by the GUI)


def reviews():
    """`<name>.review.json`: the state saved beside the folder `<name>`."""
    marks = {"status": "reviewed", "flag": True, "note": "check", "reviewed_at": "2026-12-04T12:00:00Z"}
    good = {"version": 1, "cases": {"a/1.png": marks}, "current": "a/1.png"}

    def variant(name, **changes):
        s = json.loads(json.dumps(good))
        s.update(changes)
        write(name + ".review.json", json.dumps(s, indent=2) + "\n")

    write("review_not_json.review.json", "version: 1\ncases: []\n")
    text = json.dumps(good, indent=2)
    write("review_truncated.review.json", text[: len(text) // 2])
    variant("review_version", version=2)
    variant("review_status", cases={"a/1.png": dict(marks, status="maybe")})
    variant("review_escape", cases={"../outside.png": marks})
    variant("review_time", cases={"a/1.png": dict(marks, reviewed_at="yesterday")})


def main():
    assert pydicom.__version__.startswith("3."), pydicom.__version__
    pngs()
    others()
    dicoms()
    weights()
    cards()
    csvs()
    runs()
    reviews()


if __name__ == "__main__":
    main()

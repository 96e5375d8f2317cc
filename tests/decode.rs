//! Decoding and resizing, bit for bit against the reference pipeline: PIL/NumPy (`ToTensor`'s
//! `value / 255` in float32, `convert("RGB")` for palettes and alpha) and torchvision's
//! `decode_png` for 16-bit files (`value / 65535`), and torchvision's antialiased tensor
//! `resize`. The files and arrays come from `tests/reference/decode_cases.py`.

use std::path::{Path, PathBuf};

use heatmap_explorer::input;
use heatmap_explorer::io::npy;

use crate::util::reference_dir;

fn decode_dir() -> PathBuf {
    reference_dir().join("decode")
}

/// A reference array as a flat vector with its shape.
fn reference(dir: &Path, file: &str) -> (Vec<usize>, Vec<f32>) {
    npy::read_f32(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// How many values differ in their bits, and the largest absolute difference.
fn bit_diff(ours: &[f32], theirs: &[f32]) -> (usize, f32) {
    assert_eq!(ours.len(), theirs.len(), "lengths");
    ours.iter().zip(theirs).fold((0, 0.0_f32), |(n, m), (a, b)| {
        (n + usize::from(a.to_bits() != b.to_bits()), m.max((a - b).abs()))
    })
}

#[test]
fn every_pixel_format_decodes_bit_for_bit() {
    let dir = decode_dir();
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).expect("cases"))
            .expect("cases json");
    let cases = cases.as_array().expect("a list");
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for case in cases {
        let file = case["file"].as_str().expect("file");
        let name = case["name"].as_str().expect("name");
        let bytes = std::fs::read(dir.join(file)).expect("read");
        let raster = hx_formats::decode_image(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (shape, want) = reference(&dir, &format!("{name}.npy"));
        assert_eq!(shape, [3, raster.height, raster.width], "{file}: size");
        assert_eq!(
            raster.channels as u64,
            case["channels"].as_u64().expect("c"),
            "{file}: channels"
        );
        assert_eq!(u64::from(raster.bits), case["bits"].as_u64().expect("bits"), "{file}: bits");
        let (n, max) = bit_diff(&raster.to_rgb(), &want);
        println!(
            "{file:20} {}×{} ×{}: {n} values differ (max {max:e})",
            raster.width, raster.height, raster.channels
        );
        assert_eq!(n, 0, "{file}: {n} values differ from the reference, by up to {max:e}");
    }
}

#[test]
fn resize_matches_torchvision_bit_for_bit() {
    let dir = decode_dir();
    for name in ["resize_gray8", "resize_gray16"] {
        let path = dir.join(format!("{name}.png"));
        let raster =
            hx_formats::decode_image(&std::fs::read(&path).expect("read")).expect("decode");
        assert_eq!(raster.channels, 1);
        let img = input::load_image(&path, [256, 256]).expect("load");
        assert_eq!((img.width, img.height), (256, 256));
        let plane = 256 * 256;
        // torchvision resizing the RGB image PIL makes, and the one gray plane.
        let (_, rgb) = reference(&dir, &format!("{name}_rgb.npy"));
        let (n, max) = bit_diff(&img.data, &rgb);
        println!(
            "{name} {}×{} → 256×256: {n} values differ from torchvision (max {max:e})",
            raster.width, raster.height
        );
        assert_eq!(n, 0, "{name}: {n} values differ from torchvision's resize, by up to {max:e}");
        let (_, gray) = reference(&dir, &format!("{name}_plane.npy"));
        assert_eq!(bit_diff(&img.data[..plane], &gray).0, 0, "{name}: one plane");
    }
}

#[test]
fn flat_images_decode_as_the_reference_reads_them() {
    // The flat-region parity images (`flat.rs`): the project's input is the reference's input.
    let dir = reference_dir().join("flat");
    let (shape, want) = reference(&dir, "inputs.npy");
    assert_eq!(shape, [5, 3, 256, 256]);
    let per = 3 * 256 * 256;
    for (i, name) in ["page", "phantom", "blocks", "xray8", "xray16"].iter().enumerate() {
        let img = input::load_image(&dir.join(format!("{name}.png")), [256, 256]).expect("load");
        let (n, max) = bit_diff(&img.data, &want[i * per..(i + 1) * per]);
        assert_eq!(n, 0, "{name}: {n} input values differ, by up to {max:e}");
    }
}

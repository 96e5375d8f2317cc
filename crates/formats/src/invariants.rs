//! The invariants the fuzz targets (fuzz/) assert, shared with their regression tests so that a
//! replayed crash input is checked exactly as the fuzzer checked it. Each check panics on a
//! broken invariant: it is meant for the fuzzer and tests, not for callers handling errors.

use crate::{DicomFile, Raster, Window};

/// A decoded image is non-empty, its buffer matches its size, and every value is in [0, 1].
pub fn check_raster(r: &Raster, what: &str) {
    assert!(r.width >= 1 && r.height >= 1, "{what}: empty image accepted");
    assert_eq!(r.data.len(), r.width * r.height * r.channels, "{what}: buffer length");
    if let Some(v) = r.data.iter().find(|v| !(v.is_finite() && (0.0..=1.0).contains(*v))) {
        panic!("{what}: value {v} outside [0, 1]");
    }
}

/// Opens `bytes` as DICOM and, if that succeeds, renders the first, last and one-past-last frame
/// under the file's windows, auto, a percentile and a custom window: each render is an error or
/// passes [`check_raster`]. Images over `max_pixels` are opened but not rendered.
pub fn check_dicom(bytes: &[u8], max_pixels: usize) {
    let Ok(file) = DicomFile::open(bytes) else { return };
    let _ = file.header();
    let facts = file.facts();
    if facts.rows.saturating_mul(facts.columns) > max_pixels {
        return;
    }
    let windows = [
        Window::File,
        Window::FileN(1),
        Window::Auto,
        Window::Percentile(1.0),
        Window::Custom { center: 40.0, width: 400.0 },
    ];
    for frame in [0, facts.frames.saturating_sub(1), facts.frames] {
        for w in &windows {
            if let Ok(r) = file.render(frame, w) {
                check_raster(&r, &format!("frame {frame}, {w:?}"));
            }
        }
    }
}

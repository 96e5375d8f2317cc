//! The display windowing against the model pipeline (`DicomFile::render`, what the `image`
//! command writes) on a small generated file, for every window mode; drag and scale bar maths.

use hx_formats::dicom::{DicomFile, Window};

use super::*;
use crate::io::dicom::{DicomSource, test_file};

fn file() -> DicomFile {
    let bytes = test_file(23, 17, |x, y| (x * 173 + y * 61 + (x * y) % 7) % 4096);
    DicomFile::open(&bytes).expect("test DICOM opens")
}

fn source(f: &DicomFile) -> DicomSource {
    DicomSource::of(f, 0).expect("values").expect("grayscale")
}

#[test]
fn display_values_equal_the_image_command_pipeline_for_every_window() {
    let f = file();
    let src = source(&f);
    assert!(src.inverted, "MONOCHROME1");
    assert_eq!(src.presets.len(), 2);
    for w in [
        Window::File,
        Window::FileN(1),
        Window::Auto,
        Window::Percentile(1.0),
        Window::Percentile(10.0),
        Window::Custom { center: 1200.0, width: 2500.0 },
    ] {
        let r = resolve(&src, &w).expect("resolves");
        let ours = windowed(&src, &r.voi);
        let theirs = f.render(0, &w).expect("render").data;
        assert_eq!(ours.len(), theirs.len());
        let diff = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        // Modality values 2.5·s − 1024 are exact in f32, so the two agree to the last bit.
        assert!(diff == 0.0, "{w}: max difference {diff}");
    }
}

#[test]
fn read_outs_name_presets_and_ranges() {
    let src = source(&file());
    let first = resolve(&src, &Window::File).expect("file");
    assert_eq!((first.center, first.width), (1000.0, 3000.0));
    assert_eq!(first.readout(), "W 3000 L 1000 · file preset 1");
    let bone = resolve(&src, &Window::FileN(1)).expect("file:1");
    assert_eq!(bone.name, "file preset 2 (BONE)");
    let missing = resolve(&src, &Window::FileN(2)).expect_err("no third preset");
    assert!(missing.contains("2 window preset(s)"), "{missing}");
    assert!(resolve(&src, &Window::Custom { center: 0.0, width: 0.5 }).is_err());
    // auto = the LINEAR window mapping min to 0 and max to 1.
    let auto = resolve(&src, &Window::Auto).expect("auto");
    let (lo, hi) = src.range;
    assert_eq!((auto.center, auto.width), ((lo + hi) / 2.0 + 0.5, hi - lo + 1.0));
    let lin = hx_formats::dicom::VoiFunction::Linear;
    assert_eq!(lin.apply(lo, auto.center, auto.width), 0.0);
    assert_eq!(lin.apply(hi, auto.center, auto.width), 1.0);
}

#[test]
fn dragging_changes_width_horizontally_and_level_vertically() {
    let src = source(&file());
    let step = drag_step(&src);
    assert!((step - (src.range.1 - src.range.0) / 512.0).abs() < 1e-12);
    assert_eq!(
        dragged((100.0, 400.0), [10.0, 0.0], 2.0),
        Window::Custom { center: 100.0, width: 420.0 }
    );
    assert_eq!(
        dragged((100.0, 400.0), [0.0, -5.0], 2.0),
        Window::Custom { center: 90.0, width: 400.0 }
    );
    // The width never drops below 1 (a LINEAR window's minimum).
    assert_eq!(
        dragged((100.0, 4.0), [-50.0, 0.0], 1.0),
        Window::Custom { center: 100.0, width: 1.0 }
    );
}

#[test]
fn scale_bars_are_round_lengths_that_fit() {
    // 0.5 mm per point, at most 100 points: 50 mm fits (100 points), exactly.
    assert_eq!(scale_bar(0.5, 100.0), Some((50.0, 100.0)));
    // 0.3 mm per point, 100 points = 30 mm: the bar is 20 mm, 66.7 points.
    let (mm, pts) = scale_bar(0.3, 100.0).expect("bar");
    assert!((mm - 20.0).abs() < 1e-9 && (pts - 66.666_67).abs() < 1e-3, "{mm} {pts}");
    let (mm, _) = scale_bar(0.004, 120.0).expect("bar");
    assert!((mm - 0.2).abs() < 1e-12, "{mm}");
    assert_eq!(scale_bar(0.0, 100.0), None);
    assert_eq!(scale_bar(f64::NAN, 100.0), None);
    // Physical aspect: 0.5 mm rows, 0.25 mm columns make a 100×100 image half as wide.
    assert_eq!(fitted_size([100, 100], Some([0.5, 0.25]), [400.0, 400.0]), [200.0, 400.0]);
    assert_eq!(fitted_size([200, 100], None, [400.0, 400.0]), [400.0, 200.0]);
}

#[test]
fn the_view_inverts_for_display_only_and_reads_modality_values() {
    let f = file();
    let src = std::sync::Arc::new(source(&f));
    let key =
        DicomKey { image: 0, source_id: 1, window: Window::File, invert: false, preview: false };
    let plain = DicomView::build(key, std::sync::Arc::clone(&src));
    let flipped = DicomView::build(DicomKey { invert: true, ..key }, src);
    let (a, b) = (plain.image.pixels[5].r(), flipped.image.pixels[5].r());
    assert_eq!(u16::from(a) + u16::from(b), 255);
    let (x, y, v) = plain.value_at(0.0, 0.0).expect("pixel");
    assert_eq!((x, y), (0, 0));
    assert_eq!(v, -1024.0, "stored 0 → 2.5 · 0 − 1024");
    assert_eq!(plain.column_spacing(), Some(0.5));
}

#[test]
fn subsampling_takes_every_strideth_pixel() {
    // A 5×3 frame of values 10·y + x, every second pixel: columns 0, 2, 4 of rows 0 and 2.
    let values: Vec<f32> =
        (0u16..3).flat_map(|y| (0u16..5).map(move |x| f32::from(10 * y + x))).collect();
    let (out, size) = subsampled(&values, [5, 3], 2);
    assert_eq!(size, [3, 2]);
    assert_eq!(out, [0.0, 2.0, 4.0, 20.0, 22.0, 24.0]);
    assert_eq!(subsampled(&values, [5, 3], 1), (values.clone(), [5, 3]));
    assert_eq!(preview_stride([512, 100]), 1);
    assert_eq!(preview_stride([513, 100]), 2);
    // The NEMA chest CR: 1841 × 1955 → stride 4, a 461 × 489 preview.
    assert_eq!(preview_stride([1841, 1955]), 4);
}

#[test]
fn a_drag_previews_subsampled_and_the_release_shows_the_full_windowed_image() {
    let (w, h) = (1100u16, 700u16);
    let f = DicomFile::open(&test_file(w, h, |x, y| (x * 3 + y * 5) % 4096)).expect("opens");
    let src = std::sync::Arc::new(source(&f));
    let window = Window::Custom { center: 1800.0, width: 1500.0 };
    let key = DicomKey { image: 0, source_id: 1, window, invert: false, preview: true };
    let preview = DicomView::build(key, std::sync::Arc::clone(&src));
    assert_eq!(preview.image.size, [367, 234], "stride 3 of 1100 × 700");
    // Each preview pixel is the full image's pixel at the top-left of its block.
    let full = DicomView::build(DicomKey { preview: false, ..key }, std::sync::Arc::clone(&src));
    assert_eq!(full.image.size, [1100, 700]);
    for (i, p) in preview.image.pixels.iter().enumerate() {
        let (x, y) = (i % 367 * 3, i / 367 * 3);
        assert_eq!(*p, full.image.pixels[y * 1100 + x], "preview pixel {i}");
    }
    // The full image is exactly the pipeline's windowed values, as grey.
    let r = resolve(&src, &window).expect("resolves");
    let want = grey_image(&windowed(&src, &r.voi), [1100, 700], false);
    assert_eq!(full.image.pixels, want.pixels);
}

//! Raster decoding (PNG, JPEG, BMP, TIFF, GIF) of arbitrary bytes: an error or a well-formed image.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = hx_formats::decode_image(data) {
        hx_formats::invariants::check_raster(&r, "raster");
        assert!(r.channels == 1 || r.channels == 3, "{} channels", r.channels);
        assert_eq!(r.to_rgb().len(), 3 * r.width * r.height);
    }
});

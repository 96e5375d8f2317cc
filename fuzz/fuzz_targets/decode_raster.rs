//! Raster decoding (PNG, JPEG, BMP, TIFF, GIF) of arbitrary bytes: an error or a well-formed image.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = hx_formats::decode_image(data) {
        assert!(r.width >= 1 && r.height >= 1, "empty image accepted");
        assert!(r.channels == 1 || r.channels == 3, "{} channels", r.channels);
        assert_eq!(r.data.len(), r.width * r.height * r.channels, "buffer length");
        assert!(
            r.data.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
            "value outside [0, 1]"
        );
        assert_eq!(r.to_rgb().len(), 3 * r.width * r.height);
    }
});

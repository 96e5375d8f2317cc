//! DICOM parsing and rendering of arbitrary bytes: an error or a well-formed image, for the
//! file's own window, auto, a percentile and a custom window, first and last frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts before unwinding, but the library deliberately catches
    // panics inside dicom-rs's codecs (`frames::guarded`): print and unwind instead. A panic
    // that escapes the library still ends the process (it cannot unwind out of the fuzzer's
    // `extern "C"` entry point), so it is still reported as a crash.
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught?): {info}")));
    });
    // Opening decodes frame 0 already; rendering an image near the 100-megapixel limit takes
    // about 2 GB (f64 values, a percentile's copy, f32 output), libFuzzer's RSS limit, though
    // a tiny file can declare it (RLE). The code is the same for small images.
    hx_formats::invariants::check_dicom(data, 1 << 22);
});

//! Review-state parsing of arbitrary bytes: an error, or a state that passes its checks and
//! reads back equal after writing.
#![no_main]

use hx_formats::review::Saved;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = Saved::parse(data) else { return };
    s.check().expect("a parsed review passes its checks");
    let json = s.to_json().expect("a parsed review serialises");
    let again = Saved::parse(&json).expect("a written review parses");
    assert_eq!(again, s, "review changed on a write/read round trip");
});

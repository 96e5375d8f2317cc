//! Model-card parsing of arbitrary bytes: an error, or a card that passes or fails the checks
//! cleanly and reads back equal after writing.
#![no_main]

use hx_formats::card::{self, Labels, ModelCard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = card::parse_labels(text);
    }
    let Ok(c) = ModelCard::parse_bytes(data) else { return };
    let _ = card::check_input_size(c.input_size);
    if let Some(Labels::List(l)) = &c.labels {
        let _ = card::check_labels(l.clone(), c.classes);
    }
    let json = c.to_json().expect("a parsed card serialises");
    let again = ModelCard::parse(&json).expect("a written card parses");
    assert_eq!(again, c, "card changed on a write/read round trip");
});

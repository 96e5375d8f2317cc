//! Run-file parsing of arbitrary bytes: an error or parts whose sizes agree.
#![no_main]

use hx_formats::runfile::{self, RunParts};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = runfile::parse::<Value, Value>(data) else { return };
    let p: RunParts<Value, Value> = p;
    let per = p.height * p.width;
    assert_eq!(p.image.len(), 3 * per, "image length");
    assert!(p.channels == 1 || p.channels == 3, "heatmap channels");
    assert_eq!(p.heatmaps.len(), p.steps.len(), "one heatmap per step");
    assert!(p.heatmaps.iter().all(|h| h.len() == p.channels * per), "heatmap length");
});

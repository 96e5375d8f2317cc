//! Decode + resize timing, our side (issue #13): `input::load_image` (hx-formats decode to
//! value / 255 or / 65535, libtorch's antialiased bilinear resize to 256×256, gray replicated)
//! on the files `bench/decode_time.py DIR` writes and times through PIL and torchvision.
//!
//! `cargo run --release --example decode_time -- DIR [REPEATS]`

use std::path::PathBuf;
use std::time::Instant;

use heatmap_explorer::input;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: decode_time DIR [REPEATS]"));
    let repeats: u32 = args.next().map_or(20, |r| r.parse().expect("REPEATS is a number"));
    for (name, side) in [("gray8_256", 256), ("gray8_1024", 1024), ("gray16_2048", 2048)] {
        let path = dir.join(format!("{name}.png"));
        input::load_image(&path, [256, 256]).expect("run bench/decode_time.py DIR first");
        let t = Instant::now();
        for _ in 0..repeats {
            std::hint::black_box(input::load_image(&path, [256, 256]).expect("load"));
        }
        let ms = t.elapsed().as_secs_f64() / f64::from(repeats) * 1e3;
        println!("ours {name} ({side}×{side} → 256×256): {ms:.2} ms per image");
    }
}

//! Frame-time benchmark of the real app (egui_kittest harness, no GPU rasterisation): the UI
//! thread's time per frame (event draining, layout, colour mapping, texture updates,
//! tessellation) while a 256×256 GAX run streams, and while scrubbing 1000 stored steps.
//!
//! `cargo run --release --example frame_time [-- --in-place]`

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::convert::{to_f32, to_f64};
use heatmap_explorer::gax::{CompactHeatmap, GaxConfig};
use heatmap_explorer::io::image::Image;
use heatmap_explorer::io::runfile::{ModelIdentity, RunRecord, StepScalars};
use heatmap_explorer::model::{Arch, ModelSource, Normalize};
use heatmap_explorer::runtime::DeviceChoice;

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    let p99 = ms[(ms.len() * 99) / 100];
    let worst = ms[ms.len() - 1];
    println!(
        "{name}: {} frames, median {median:.2} ms, p99 {p99:.2} ms, worst {worst:.2} ms",
        ms.len()
    );
}

fn harness() -> Harness<'static, App> {
    // `--in-place`: build the central view on the UI thread while a run streams (as before the
    // view's build thread), for a before/after comparison.
    let in_place = std::env::args().any(|a| a == "--in-place");
    Harness::builder().with_size([1400.0, 900.0]).build_eframe(move |cc| {
        let mut app =
            App::from_creation(cc, Startup { device: DeviceChoice::Cpu, ..Startup::default() })
                .expect("app");
        app.views.build_in_place(in_place);
        app
    })
}

fn main() {
    let dir = std::env::temp_dir().join(format!("frame-time-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (h, w) = (256, 256);
    let image = Image {
        width: w,
        height: h,
        data: (0..3 * h * w).map(|i| to_f32((i * 7919) % 1000) / 1000.0).collect(),
    };

    // Streaming: a real GAX run on the worker while frames are drawn.
    let png = dir.join("x.png");
    image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([x, y, x * y].map(|v| v.to_le_bytes()[0]))
    })
    .save(&png)
    .expect("png");
    let mut hs = harness();
    hs.state_mut().open_model(ModelSource::Random {
        arch: Arch::Squeezenet1_1,
        classes: 2,
        normalize: Normalize::Imagenet,
        seed: 1,
    });
    hs.state_mut().open_image(png);
    let end = Instant::now() + Duration::from_secs(60);
    while hs.state().state.current_entry().is_none_or(|e| e.prediction.is_none())
        && Instant::now() < end
    {
        hs.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    hs.state_mut().state.gax =
        GaxConfig { max_steps: 100_000, target_co: f64::INFINITY, ..GaxConfig::default() };
    hs.state_mut().run_gax();
    let mut frames = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        let t = Instant::now();
        hs.step();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(16).saturating_sub(t.elapsed()));
    }
    let steps = hs.state().state.current_run().map_or(0, |r| r.steps.len());
    hs.state_mut().stop();
    stats(&format!("streaming ({steps} GAX steps arrived in 20 s)"), frames);

    // Scrubbing: 1000 stored steps, one new step per frame.
    let mut run =
        RunRecord::new(GaxConfig::default(), image, "x.png".into(), 0, ModelIdentity::default());
    for t in 0..1000_usize {
        let v: Vec<f32> =
            (0..3 * h * w).map(|i| (to_f32((i + 31 * t) % 2000) / 1000.0 - 1.0) * 0.9).collect();
        run.heatmaps.push(CompactHeatmap::from_f32(h, w, &v));
        run.steps.push(StepScalars {
            co: to_f32(t) * 0.05,
            loss: 1.0,
            similarity: 0.5,
            abs_max: 0.9,
            predicted: 0,
        });
    }
    let path = dir.join("scrub.gaxrun");
    run.save(&path).expect("save");
    println!(
        "run file of 1000 steps: {:.1} MB",
        to_f64(usize::try_from(std::fs::metadata(&path).expect("meta").len()).expect("size")) / 1e6
    );
    let mut hr = harness();
    hr.state_mut().open_run(path);
    // The run file is read off the UI thread: scrub only once it is the one shown.
    let opened = Instant::now();
    while hr.state().state.current_run().is_none_or(|r| r.steps.len() < 1000) {
        assert!(opened.elapsed() < Duration::from_secs(120), "the run file did not open");
        hr.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    hr.step();
    let mut frames = Vec::new();
    for t in 0..1000 {
        hr.state_mut().state.timeline.selected = t;
        let tm = Instant::now();
        hr.step();
        frames.push(tm.elapsed().as_secs_f64() * 1000.0);
        let shown = hr.state().state.timeline.selected;
        assert_eq!(shown, t, "each step is shown within its frame");
    }
    stats("scrubbing 1000 steps", frames);
    let _ = std::fs::remove_dir_all(&dir);
}

//! The real app in egui_kittest: regions, accessible labels, a GAX flow, method comparison,
//! snapshots. Files are opened through the app's API (rfd dialogs need a desktop portal).

use std::time::{Duration, Instant};

use egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::state::ScaleMode;
use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::model::{Arch, ModelSource, Normalize};
use heatmap_explorer::runtime::DeviceChoice;

use crate::util::{random_png, temp_dir};

/// The real app at the size every flow uses, on the CPU.
pub(crate) fn harness() -> Harness<'static, App> {
    Harness::builder().with_size([1280.0, 1100.0]).build_eframe(|cc| {
        App::from_creation(cc, Startup { device: DeviceChoice::Cpu, ..Startup::default() })
            .expect("app")
    })
}

/// Steps frames until `cond` holds (worker events arrive asynchronously).
pub(crate) fn step_until(h: &mut Harness<'_, App>, what: &str, cond: impl Fn(&App) -> bool) {
    let end = Instant::now() + Duration::from_secs(120);
    while !cond(h.state()) {
        assert!(
            Instant::now() < end,
            "timed out waiting for {what}; status: {}",
            h.state().state.status.text
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
}

/// A random squeezenet with three classes: fast on the CPU.
pub(crate) fn small_model() -> ModelSource {
    ModelSource::Random {
        arch: Arch::Squeezenet1_1,
        classes: 3,
        normalize: Normalize::Imagenet,
        seed: 4,
    }
}

#[test]
fn shell_has_four_regions_and_device() {
    let mut h = harness();
    h.run();
    for label in heatmap_explorer::ui::REGION_LABELS {
        h.get_by_label(label);
    }
    h.get_by_label_contains("device: cpu");
    h.snapshot("shell");
}

#[test]
fn gax_flow_streams_scrubs_and_rescales() {
    let dir = temp_dir("ui");
    let img = random_png(dir.path(), "xray.png", 128, 3);
    let mut h = harness();
    h.state_mut().open_model(small_model());
    h.state_mut().open_image(img);
    step_until(&mut h, "model, image and prediction", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    h.get_by_label_contains("prediction (top 5)");
    h.state_mut().state.gax.max_steps = 400;
    h.state_mut().state.gax.target_co = f64::INFINITY;
    h.get_by_role_and_label(Role::Button, "Run GAX").click();
    step_until(&mut h, "four GAX steps", |a| {
        a.state.current_run().is_some_and(|r| r.steps.len() >= 4)
    });
    h.get_by_label_contains("steps: ");
    let shown = h.state().state.timeline.selected;
    assert!(shown >= 3, "the slider follows the newest step while streaming ({shown})");
    h.get_by_role_and_label(Role::Button, "Stop").click();
    h.run_steps(2);
    assert!(!h.state().state.gax_running());
    let total = h.state().state.current_run().map_or(0, |r| r.steps.len());
    assert!(total >= 4);

    h.get_by_role_and_label(Role::Button, "|<").click();
    h.run_steps(2);
    h.get_by_label_contains("CO at step 0:");
    h.get_by_role_and_label(Role::Slider, "step").focus();
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert_eq!(h.state().state.timeline.selected, 1);
    h.get_by_label_contains("CO at step 1:");
    h.get_by_label_contains("GAX step 1: CO");

    h.get_by_label("scale").click();
    h.run_steps(2);
    h.get_by_label("per-step abs max").click();
    h.run_steps(2);
    assert_eq!(h.state().state.scale, ScaleMode::PerStep);
    for panel in ["heatmap R", "heatmap G", "heatmap B", "channel sum", "overlay", "change R"] {
        assert!(h.query_all_by_label(panel).count() >= 1, "panel {panel}");
    }
    // Exports: a panel as PNG, the run as GIF, the run file replayed with no model.
    let png = dir.path().join("r.png");
    h.state_mut().export_panel_png("heatmap R", &png);
    step_until(&mut h, "the PNG written off the UI thread", |a| !a.exports_running());
    assert_eq!(image::open(&png).expect("png").to_rgba8().dimensions(), (256, 256));
    let gif = dir.path().join("run.gif");
    h.state_mut().export_gif(&gif);
    step_until(&mut h, "the GIF written off the UI thread", |a| !a.exports_running());
    let frames = image::AnimationDecoder::into_frames(
        image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
            std::fs::File::open(&gif).expect("gif"),
        ))
        .expect("decode"),
    );
    assert!(frames.count() >= total.min(2), "one GIF frame per step");
    // A cancelled GIF export stops at its next frame and leaves the old file as it was.
    let run = h.state().state.current_run().cloned().expect("run");
    let before = std::fs::read(&gif).expect("gif");
    let frames_left = std::cell::Cell::new(1);
    let cancel = || frames_left.replace(0) == 0;
    let r = heatmap_explorer::app::write_gif(&run, &gif, &cancel);
    assert!(matches!(r, Err(heatmap_explorer::Error::Cancelled)), "{r:?}");
    assert_eq!(std::fs::read(&gif).expect("gif"), before);
    h.state_mut().export_gif(&dir.path().join("cancelled.gif"));
    h.state_mut().cancel_exports();
    step_until(&mut h, "the cancelled GIF export to end", |a| !a.exports_running());
    let status = &h.state().state.status;
    assert!(!status.error, "{}", status.text);
    let run_path = dir.path().join("run.gaxrun");
    h.state_mut().save_run(&run_path);
    step_until(&mut h, "the run saved off the UI thread", |a| !a.exports_running());
    assert!(
        h.state().state.status.text.contains("run written to"),
        "{}",
        h.state().state.status.text
    );
    let mut replay = harness();
    replay.state_mut().open_run(run_path);
    step_until(&mut replay, "the run file read off the UI thread", |a| !a.exports_running());
    assert!(replay.state().state.model.is_none(), "replay needs no model");
    assert!(!replay.state().state.status.error, "{}", replay.state().state.status.text);
    assert_eq!(replay.state().state.current_run().map(|r| r.steps.len()), Some(total));
    replay.get_by_label_contains("GAX step 0: CO");

    // A second run that ends by itself at a fixed step count, for a reproducible snapshot.
    h.state_mut().state.gax.max_steps = 3;
    h.get_by_role_and_label(Role::Button, "Run GAX").click();
    // The click lands on the next frame; before it, the stopped first run (which may have
    // exactly four steps) would already satisfy the wait below.
    h.run_steps(1);
    assert!(h.state().state.gax_running(), "the second run started");
    step_until(&mut h, "a finished 3-step run", |a| {
        !a.state.gax_running() && a.state.current_run().is_some_and(|r| r.steps.len() == 4)
    });
    h.state_mut().state.timeline.selected = 1;
    h.run_steps(2);
    // The snapshot is of the drawn frame: make sure it shows the finished run.
    h.get_by_label_contains("ended: step limit reached");
    // Heatmap colours come from float maths that can round differently on another CPU, so
    // this snapshot allows small differences.
    h.snapshot_options(
        "gax_view",
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(2000),
    );
}

#[test]
fn two_methods_show_their_co() {
    let dir = temp_dir("ui2");
    let img = random_png(dir.path(), "chest.png", 96, 5);
    let mut h = harness();
    h.state_mut().open_model(small_model());
    h.state_mut().open_image(img);
    step_until(&mut h, "prediction", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    for m in ["InputXGradient", "LayerGradCam", "Deconvolution", "DeepLift"] {
        h.get_by_role_and_label(Role::CheckBox, m).click();
        h.run_steps(1);
    }
    h.get_by_role_and_label(Role::Button, "Run methods").click();
    step_until(&mut h, "two attributions", |a| {
        a.state.current_entry().is_some_and(|e| e.attributions.len() == 2)
            && a.state.pending.is_empty()
    });
    h.get_by_label("Method comparison");
    for tile in ["Saliency tile", "GuidedBackprop tile"] {
        h.get_by_role_and_label(Role::Image, tile);
    }
    let labels = h.query_all_by_label_contains("CO ").count();
    assert!(labels >= 2, "CO under each tile ({labels})");
    let e = h.state().state.current_entry().expect("entry");
    assert!(e.attributions.keys().map(|m| m.name()).eq(["Saliency", "GuidedBackprop"]));
}

#[test]
fn dataset_tab_runs_plots_and_opens_an_image() {
    let dir = temp_dir("uids");
    let data = dir.path().join("xrays");
    for (c, class) in ["NORMAL", "PNEUMONIA"].iter().enumerate() {
        let d = data.join(class);
        std::fs::create_dir_all(&d).expect("mkdir");
        for i in 0..3 {
            random_png(&d, &format!("im{i}.png"), 64, (10 * c + i) as u64);
        }
    }
    let mut h = harness();
    h.state_mut().open_model(ModelSource::Random {
        arch: Arch::Squeezenet1_1,
        classes: 2,
        normalize: Normalize::Imagenet,
        seed: 8,
    });
    step_until(&mut h, "model", |a| a.state.model.is_some());
    h.get_by_label("Dataset tab").click();
    h.run_steps(2);
    h.state_mut().state.methods = vec![
        heatmap_explorer::attribution::Method::Saliency,
        heatmap_explorer::attribution::Method::DeepLift,
    ];
    h.state_mut().state.dataset.dir = data.display().to_string();
    h.get_by_role_and_label(Role::Button, "Run on folder").click();
    step_until(&mut h, "dataset summary", |a| a.state.dataset.summary.is_some());
    h.get_by_label_contains("6 images, accuracy before AX");
    h.get_by_label("Statistics");
    assert_eq!(h.state().state.dataset.rows.len(), 6 * 2 * 2);
    let written: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let csv = written
        .iter()
        .find(|n| n.starts_with("xrays_ax_squeezenet1_1_") && n.ends_with(".csv"))
        .unwrap_or_else(|| panic!("no results CSV in {written:?}"));
    assert!(written.contains(&csv.replace(".csv", ".run.json")), "{written:?}");
    // Pick the group of the first method's images as a click on its box would, then open one.
    let correct =
        h.state().state.dataset.rows.iter().any(|r| r.correct && r.method.name() == "Saliency");
    h.state_mut().state.dataset.pick = Some(heatmap_explorer::app::state::DatasetPick {
        method: heatmap_explorer::ax::HeatmapSource::Method(
            heatmap_explorer::attribution::Method::Saliency,
        ),
        correct,
        range: None,
    });
    h.run_steps(2);
    // The CO values differ in their fourth digit between CPUs (MKL's kernels), which moves the
    // plots' fine grid lines by a pixel; the temporary folder's name and the images/s differ
    // per run. About 8,500 pixels change that way; a layout change moves far more.
    h.snapshot_options(
        "dataset_tab",
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(14000),
    );
    let first = h.state().state.dataset.picked_rows()[0].image.clone();
    h.get_by_role_and_label(Role::Button, &format!("open {first}")).click();
    step_until(&mut h, "the image with its Saliency heatmap", |a| {
        a.state.tab == heatmap_explorer::app::state::Tab::Explorer
            && a.state.current_entry().is_some_and(|e| {
                e.attributions.contains_key(&heatmap_explorer::attribution::Method::Saliency)
            })
    });
    assert!(h.query_all_by_label_contains("Saliency: CO sum").count() >= 1);
}

/// Images opened with (or before) a model are decoded at the model's input size, as the command
/// line does, and decoded again when a model with another input size arrives.
#[test]
fn images_follow_the_model_input_size() {
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/normal_1.png");
    let startup = Startup {
        device: DeviceChoice::Cpu,
        model: Some(ModelSource::Card(card.clone())),
        images: vec![sample.clone()],
        ..Startup::default()
    };
    let mut h = Harness::builder()
        .with_size([1280.0, 1100.0])
        .build_eframe(|cc| App::from_creation(cc, startup).expect("app"));
    step_until(&mut h, "the sample predicted", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    let e = h.state().state.current_entry().expect("entry");
    assert_eq!((e.image.height, e.image.width), (128, 128), "the card's input size");
    let top = e.prediction.clone().expect("prediction");
    let model = heatmap_explorer::model::Model::load(&ModelSource::Card(card), tch::Device::Cpu)
        .expect("model");
    let img = heatmap_explorer::input::load_image(&sample, [128, 128]).expect("image");
    let x = heatmap_explorer::input::to_tensor(&img, 3, tch::Device::Cpu).expect("tensor");
    let logits =
        Vec::<f32>::try_from(model.forward(&x).expect("forward").view([-1])).expect("logits");
    let best = if logits[0] >= logits[1] { 0 } else { 1 };
    assert_eq!(top[0].class, best);
    assert!(
        (top[0].logit - logits[best as usize]).abs() < 1e-4,
        "{} vs {}",
        top[0].logit,
        logits[best as usize]
    );
    h.state_mut().open_model(small_model());
    step_until(&mut h, "the sample decoded again at 256×256 and predicted", |a| {
        a.state.current_entry().is_some_and(|e| {
            e.image.width == 256 && e.prediction.as_ref().is_some_and(|p| p.len() == 3)
        })
    });
}

/// On phantoms with lesion masks, the dataset tab's statistics gain the localisation columns,
/// GAX rows included when "GAX steps" is set, and a GAX box opens the image with a GAX run.
#[test]
fn dataset_tab_shows_lesion_localisation_and_gax() {
    use heatmap_explorer::phantom::{self, PhantomOptions};
    let dir = temp_dir("uilesion");
    phantom::write_dataset(
        dir.path(),
        &PhantomOptions { count: 4, seed: 5, splits: vec!["test".into()], pneumonia_fraction: 0.5 },
    )
    .expect("phantoms");
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    let mut h = harness();
    h.state_mut().open_model(ModelSource::Card(card));
    step_until(&mut h, "model", |a| a.state.model.is_some());
    h.get_by_label("Dataset tab").click();
    h.run_steps(2);
    h.state_mut().state.methods = vec![heatmap_explorer::attribution::Method::DeepLift];
    h.state_mut().state.dataset.dir = dir.path().join("test").display().to_string();
    h.state_mut().state.dataset.gax_steps = 3;
    h.get_by_role_and_label(Role::Button, "Run on folder").click();
    step_until(&mut h, "dataset summary", |a| a.state.dataset.summary.is_some());
    for column in ["n lesion", "mass in mask", "pointing"] {
        h.get_by_label(column);
    }
    let summary = h.state().state.dataset.summary.clone().expect("summary");
    assert!(summary.groups.iter().any(|g| g.method.name() == "GAX" && g.lesion_images == 2));
    assert_eq!(h.state().state.dataset.rows.len(), 4 * 2 * 2, "DeepLift and GAX, both variants");
    let rel = h
        .state()
        .state
        .dataset
        .rows
        .iter()
        .find(|r| r.method.name() == "GAX")
        .map(|r| (r.image.clone(), r.label))
        .expect("GAX row");
    h.state_mut().open_dataset_image(&rel.0, heatmap_explorer::ax::HeatmapSource::Gax, rel.1);
    step_until(&mut h, "a GAX run on the opened image", |a| {
        a.state.current_run().is_some_and(|r| !r.steps.is_empty())
    });
    assert_eq!(
        h.state().state.current_run().map(|r| r.label),
        Some(rel.1),
        "GAX maximises the ground-truth class, as the dataset row did"
    );
}

/// The 2-D example tab: presets recompute the curves, the read-out shows the CO scores of the
/// three σ at the selected θ, and the first panel of Figure 1 as a snapshot.
#[test]
fn toy2d_tab_plots_the_papers_example() {
    let mut h = harness();
    h.run();
    h.get_by_label("2-D example tab").click();
    h.run_steps(3);
    assert_eq!(h.state().state.tab, heatmap_explorer::app::state::Tab::Toy2d);
    h.get_by_role_and_label(Role::Button, "a₁ = 0.7").click();
    h.run_steps(3);
    h.get_by_role_and_label(Role::Button, "kη = 1.44 (plotting code: η twice)").click();
    h.run_steps(3);
    let c = h.state().state.toy2d.curves.clone().expect("curves");
    assert_eq!((c.params.a1, c.params.k_eta), (0.7, heatmap_explorer::toy2d::K_ETA_PLOTTED));
    assert!(c.max_abs_difference() < 1e-6, "the overlay matches the closed form");
    h.get_by_label_contains("max |h − h_numeric| = ");
    h.get_by_label_contains("CO score at θ");
    for sigma in ["σ = identity", "σ = leaky-relu", "σ = sigmoid"] {
        h.get_by_label(sigma);
    }

    h.get_by_role_and_label(Role::Button, "a₁ = 0.95").click();
    h.get_by_role_and_label(Role::Button, "kη = 1.2 (caption)").click();
    h.state_mut().state.toy2d.selected_theta = std::f64::consts::FRAC_PI_4;
    h.run_steps(3);
    assert_eq!(h.state().state.toy2d.curves.as_ref().map(|c| c.params.a1), Some(0.95));
    let r = h.state().state.toy2d.readout().expect("read-out");
    assert!((r.theta - std::f64::consts::FRAC_PI_4).abs() < 0.025, "nearest sample {}", r.theta);
    h.get_by_label_contains(&format!("at θ = {:.4} (the nearest sample): x = ", r.theta));
    h.snapshot("toy2d_tab");
}

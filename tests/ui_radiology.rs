//! The explorer with a 1-channel multi-label model (issue #17, SPEC §10): the reference
//! xrv-densenet121 weights (18 pathologies) at a 32×32 input, the smallest its four poolings
//! take, to keep the flow fast on a CPU. Pick a pathology from the list, run methods and GAX with
//! the real buttons, and check that the view shows one channel, that the pick is what the
//! heatmaps explain and CO weighs, and that exports keep one channel.

use egui::Role;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::App;
use heatmap_explorer::attribution::{self, Method};
use heatmap_explorer::ax::{self, HeatmapSource, Variant};
use heatmap_explorer::model::{Model, ModelSource};

use crate::ui::{harness, step_until};
use crate::util::{model_dir, random_png, temp_dir};

/// The panels a 3-channel view has and a 1-channel one must not.
const RGB_ONLY: [&str; 7] =
    ["heatmap R", "heatmap G", "heatmap B", "channel sum", "change R", "change G", "change B"];

/// A card for the reference xrv-densenet121 weights at a 32×32 input, in `dir`.
fn card32(dir: &std::path::Path) -> std::path::PathBuf {
    assert!(
        model_dir("xrv-densenet121").join("meta.json").exists(),
        "run `make reference` (tests/reference/make_densenet.py)"
    );
    let card = dir.join("xrv32.json");
    let text = serde_json::json!({
        "arch": "xrv-densenet121", "classes": 18, "normalize": "xrv", "input_size": [32, 32],
        "channels": 1, "multilabel": true,
        "weights": model_dir("xrv-densenet121").join("weights.safetensors"),
    });
    std::fs::write(&card, text.to_string()).expect("card");
    card
}

fn assert_one_channel_view(h: &egui_kittest::Harness<'_, App>, change: bool) {
    h.get_by_role_and_label(Role::Image, "heatmap");
    for name in RGB_ONLY {
        assert_eq!(h.query_all_by_label(name).count(), 0, "a 1-channel view has no '{name}'");
    }
    let view = h.state().views.last_explorer().expect("a view");
    assert_eq!(view.channels, 1);
    let want: &[&str] = if change {
        &["image", "heatmap", "overlay", "model input", "change"]
    } else {
        &["image", "heatmap", "overlay", "model input"]
    };
    assert!(view.panels.iter().map(|p| p.name).eq(want.iter().copied()));
}

#[test]
fn a_picked_pathology_is_explained_in_one_channel_by_the_methods_and_gax() {
    let dir = temp_dir("ui-xrv");
    let card = card32(dir.path());
    let img = random_png(dir.path(), "cxr.png", 48, 17);
    let mut h = harness();
    h.state_mut().open_model(ModelSource::Card(card.clone()));
    h.state_mut().open_image(img);
    step_until(&mut h, "model, image and prediction", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    // Every pathology is listed with its sigmoid (not a softmax over the 18).
    let pred = h.state().state.current_entry().and_then(|e| e.prediction.clone()).expect("pred");
    assert_eq!(pred.len(), 18);
    for c in &pred {
        assert!((c.prob - 1.0 / (1.0 + (-c.logit).exp())).abs() < 1e-5, "sigmoid: {c:?}");
    }
    h.get_by_label_contains("independent sigmoids");
    h.get_by_label("sigmoid");
    assert_eq!(h.query_all_by_label("ground truth").count(), 0, "no single ground truth");
    // The highest score is the default; pick the third from the list instead.
    let labels = h.state().state.model.as_ref().expect("model").labels.clone();
    let name = |c: i64| labels[c as usize].clone();
    let combo = h.get_by_role_and_label(Role::ComboBox, "pathology to explain");
    let highest = format!("{} ({:.3}, highest)", name(pred[0].class), pred[0].prob);
    assert_eq!(combo.value().as_deref(), Some(highest.as_str()));
    let chosen = pred[2];
    let item = format!("{} ({:.3})", name(chosen.class), chosen.prob);
    combo.click();
    h.run_steps(2);
    h.get_by_label(&item).click();
    h.run_steps(2);
    assert_eq!(h.state().state.current_entry().and_then(|e| e.target), Some(chosen.class));
    let pathology = name(chosen.class);

    // The default methods and Grad-CAM (its map is upsampled to the one channel) with the real
    // checkbox and button; every method's 1-channel numbers are checked in `radiology::`.
    h.state_mut().state.methods = vec![Method::Saliency, Method::GuidedBackprop];
    h.run_steps(1);
    h.get_by_role_and_label(Role::CheckBox, "LayerGradCam").click();
    h.run_steps(1);
    let methods = [Method::Saliency, Method::LayerGradCam, Method::GuidedBackprop];
    assert_eq!(h.state().state.methods, methods);
    h.get_by_role_and_label(Role::Button, "Run methods").click();
    step_until(&mut h, "three attributions", |a| {
        a.state.current_entry().is_some_and(|e| e.attributions.len() == 3)
            && a.state.pending.is_empty()
    });
    h.state_mut().state.view = HeatmapSource::Method(Method::Saliency);
    h.run_steps(2);
    assert_one_channel_view(&h, false);
    h.get_by_label_contains(&format!("Saliency, target {pathology}: CO sum"));
    // The heatmaps explain the pick and CO weighs it alone: the library's numbers for it.
    let model = Model::load(&ModelSource::Card(card), tch::Device::Cpu).expect("model");
    let entry = h.state().state.current_entry().expect("entry").clone();
    let x = heatmap_explorer::input::to_tensor(&entry.image, 1, tch::Device::Cpu).expect("x");
    let t = [chosen.class];
    for m in methods {
        let r = &entry.attributions[&m];
        assert_eq!((r.target, r.heatmap.len()), (chosen.class, 32 * 32), "{m}");
        let a = attribution::attribute(&model, &x, Some(&t), m, &Default::default()).expect("a");
        let (hm, _) = ax::normalise(&a).expect("normalise");
        let co = ax::co_scores(&model, &x, &hm, &t, &[Variant::Sum]).expect("co")[0][0];
        assert!((co - r.co_sum).abs() <= 1e-4 * co.abs().max(1.0), "{m}: {co} vs {}", r.co_sum);
    }

    // GAX with the real button: it maximises the pick, with one channel's W and b.
    h.state_mut().state.gax.max_steps = 2;
    h.state_mut().state.gax.target_co = f64::INFINITY;
    h.get_by_role_and_label(Role::Button, "Run GAX").click();
    h.run_steps(1);
    step_until(&mut h, "a finished 2-step run", |a| {
        !a.state.gax_running() && a.state.current_run().is_some_and(|r| r.steps.len() == 3)
    });
    let run = h.state().state.current_run().cloned().expect("run");
    assert_eq!((run.label, run.channels()), (chosen.class, 1));
    h.state_mut().state.timeline.selected = 1;
    h.run_steps(2);
    assert_one_channel_view(&h, true);
    h.get_by_label_contains(&format!("GAX step 1, target {pathology}: CO"));
    h.get_by_label_contains("change (step 1 -> 2)");

    // Exports keep one channel: the heatmap [1, H, W], the steps [T, 1, H, W], the run file.
    let out = dir.path();
    h.state_mut().export_heatmap_npy(&out.join("h.npy"));
    h.state_mut().export_steps_npy(&out.join("steps.npy"));
    h.state_mut().save_run(&out.join("r.gaxrun"));
    h.state_mut().export_gif(&out.join("r.gif"));
    step_until(&mut h, "the exports", |a| !a.exports_running());
    assert!(!h.state().state.status.error, "{}", h.state().state.status.text);
    let shape = |f: &str| heatmap_explorer::io::npy::read_f32(&out.join(f)).expect(f).0;
    assert_eq!(shape("h.npy"), [1, 32, 32]);
    assert_eq!(shape("steps.npy"), [3, 1, 32, 32]);
    let back = heatmap_explorer::io::runfile::RunRecord::load(&out.join("r.gaxrun")).expect("run");
    assert_eq!(back, run, "the 1-channel run file reads back as it was");
    assert!(std::fs::metadata(out.join("r.gif")).expect("gif").len() > 0);
}

#[test]
fn the_dataset_tab_scores_the_picked_pathology_and_opens_an_image_on_it() {
    let dir = temp_dir("ui-xrv-data");
    let card = card32(dir.path());
    let data = dir.path().join("cxr");
    for (sub, seed) in [("Effusion/positive", 50), ("Effusion/negative", 60)] {
        std::fs::create_dir_all(data.join(sub)).expect("dir");
        for i in 0..2 {
            random_png(&data.join(sub), &format!("x{i}.png"), 32, seed + i);
        }
    }
    let mut h = harness();
    h.state_mut().open_model(ModelSource::Card(card));
    step_until(&mut h, "model", |a| a.state.model.is_some());
    h.get_by_label("Dataset tab").click();
    h.run_steps(2);
    h.state_mut().state.methods = vec![Method::Saliency];
    h.state_mut().state.dataset.dir = data.display().to_string();
    // Without a pathology a multi-label run is refused with a clear message.
    h.get_by_role_and_label(Role::Button, "Run on folder").click();
    h.run_steps(2);
    assert!(h.state().state.status.text.contains("pick the pathology"));
    h.get_by_role_and_label(Role::ComboBox, "pathology to score").click();
    h.run_steps(2);
    h.get_by_label("Effusion").click();
    h.run_steps(2);
    assert_eq!(h.state().state.dataset.pathology, Some(7));
    h.get_by_role_and_label(Role::Button, "Run on folder").click();
    step_until(&mut h, "dataset summary", |a| a.state.dataset.summary.is_some());
    let rows = h.state().state.dataset.rows.clone();
    assert_eq!(rows.len(), 4 * 2);
    for r in &rows {
        assert_eq!(r.label, i64::from(r.image.starts_with("Effusion/positive/")), "{}", r.image);
    }
    // A row opens in the explorer with its pathology as the target (its 0/1 is no class).
    let first = rows[0].clone();
    h.state_mut().open_dataset_image(&first.image, HeatmapSource::Method(Method::Saliency), 1);
    step_until(&mut h, "the image with its Saliency heatmap", |a| {
        a.state.current_entry().is_some_and(|e| e.attributions.contains_key(&Method::Saliency))
    });
    let e = h.state().state.current_entry().expect("entry");
    assert_eq!((e.target, e.label), (Some(7), None));
    assert_eq!(e.attributions[&Method::Saliency].target, 7);
}

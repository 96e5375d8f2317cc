//! The left panel: model facts and prediction, image list, GAX settings and method choice.

use crate::app::App;
use crate::attribution::{Method, Options};
use crate::ax::HeatmapSource;
use crate::ax::Variant;
use crate::worker::ClassScore;

/// Draws the heading and the primary actions, pinned above the scrolling sections so they are
/// visible on any screen (a 1366×768 laptop included).
pub fn pinned(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[1]);
    let running = app.state.gax_job.is_some();
    ui.horizontal_wrapped(|ui| {
        if ui.add_enabled(!running, egui::Button::new("Run GAX")).clicked() {
            app.run_gax();
        }
        if ui.add_enabled(running, egui::Button::new("Stop")).clicked() {
            app.stop();
        }
        if ui.button("Run methods").clicked() {
            let methods = app.state.methods.clone();
            app.run_methods(methods, Options::default());
        }
    });
    ui.separator();
}

/// Draws the sections, each collapsible.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Model").default_open(true).show(ui, |ui| model_section(app, ui));
    egui::CollapsingHeader::new("Images").default_open(true).show(ui, |ui| images_section(app, ui));
    if app.current_dicom().is_some() {
        egui::CollapsingHeader::new("Window")
            .default_open(true)
            .show(ui, |ui| super::window::show(app, ui));
    }
    egui::CollapsingHeader::new("GAX").default_open(true).show(ui, |ui| gax_section(app, ui));
    egui::CollapsingHeader::new("Methods")
        .default_open(true)
        .show(ui, |ui| methods_section(app, ui));
}

fn model_section(app: &mut App, ui: &mut egui::Ui) {
    let Some(m) = app.state.model.clone() else {
        ui.label("no model loaded (File > Open model card...)");
        return;
    };
    egui::Grid::new("model_facts").num_columns(2).show(ui, |ui| {
        ui.label("architecture");
        ui.label(&m.arch);
        ui.end_row();
        ui.label("classes");
        ui.label(m.classes.to_string());
        ui.end_row();
        ui.label("input size");
        ui.label(format!("{}×{}", m.input_size[1], m.input_size[0]));
        ui.end_row();
        ui.label("normalisation");
        ui.label(m.normalize.name());
        ui.end_row();
        if m.channels == 1 || m.multilabel {
            ui.label("input, outputs");
            ui.label(format!(
                "{} channel{}, {}",
                m.channels,
                if m.channels == 1 { "" } else { "s" },
                if m.multilabel { "multi-label (sigmoids)" } else { "single-label (softmax)" }
            ));
            ui.end_row();
        }
        ui.label("device");
        ui.label(&app.state.device);
        ui.end_row();
    });
    let Some(entry) = app.state.current_entry() else { return };
    if blinded(app) {
        ui.label("prediction: hidden (blinded read)");
        return;
    }
    let Some(pred) = entry.prediction.clone() else {
        ui.label("prediction: ...");
        return;
    };
    if m.multilabel {
        pathology_picker(app, ui, &pred);
        return;
    }
    ui.label("prediction (top 5):");
    egui::Grid::new("prediction").num_columns(3).striped(true).show(ui, |ui| {
        ui.label("class");
        ui.label("logit");
        ui.label("prob");
        ui.end_row();
        for c in &pred {
            ui.label(app.state.class_name(c.class));
            ui.label(format!("{:.3}", c.logit));
            ui.label(format!("{:.3}", c.prob));
            ui.end_row();
        }
    });
    let (mut label, mut target) = (entry.label, entry.target);
    class_picker(ui, &app.state, "ground truth", "unknown", &mut label);
    class_picker(ui, &app.state, "target class", "predicted", &mut target);
    if let Some(e) = app.state.current_entry_mut() {
        e.label = label;
        e.target = target;
    }
}

/// A multi-label model's pathologies: the five highest with logit and sigmoid probability, and
/// the pathology to explain picked from the list of all (highest first; default the highest
/// score). The pick is the target of Run methods (heatmaps and CO) and Run GAX.
fn pathology_picker(app: &mut App, ui: &mut egui::Ui, pred: &[ClassScore]) {
    ui.label("pathologies (independent sigmoids, highest first):");
    egui::Grid::new("prediction").num_columns(3).striped(true).show(ui, |ui| {
        ui.label("pathology");
        ui.label("logit");
        ui.label("sigmoid");
        ui.end_row();
        for c in pred.iter().take(5) {
            ui.label(app.state.class_name(c.class));
            ui.label(format!("{:.3}", c.logit));
            ui.label(format!("{:.3}", c.prob));
            ui.end_row();
        }
    });
    let Some(entry) = app.state.current_entry() else { return };
    let highest = pred.first().map(|c| c.class);
    let chosen = entry.target.or(highest);
    let item = |c: &ClassScore| {
        let tail = if Some(c.class) == highest { ", highest" } else { "" };
        format!("{} ({:.3}{tail})", app.state.class_name(c.class), c.prob)
    };
    let shown = pred.iter().find(|c| Some(c.class) == chosen).map_or_else(String::new, item);
    let mut pick = None;
    egui::ComboBox::from_label("pathology to explain").selected_text(shown).show_ui(ui, |ui| {
        for c in pred {
            if ui.selectable_label(Some(c.class) == chosen, item(c)).clicked() {
                pick = Some(c.class);
            }
        }
    });
    if let (Some(c), Some(e)) = (pick, app.state.current_entry_mut()) {
        e.target = Some(c);
    }
}

/// A combo box choosing one of the model's classes, or none (shown as `none_text`).
fn class_picker(
    ui: &mut egui::Ui,
    state: &crate::app::AppState,
    label: &str,
    none_text: &str,
    value: &mut Option<i64>,
) {
    let classes = state.model.as_ref().map_or(0, |m| m.classes);
    let shown = value.map_or_else(|| none_text.to_owned(), |c| state.class_name(c));
    egui::ComboBox::from_label(label).selected_text(shown).show_ui(ui, |ui| {
        ui.selectable_value(value, None, none_text);
        for c in 0..classes.min(1000) {
            ui.selectable_value(value, Some(c), state.class_name(c));
        }
    });
}

fn images_section(app: &mut App, ui: &mut egui::Ui) {
    if app.state.images.is_empty() {
        ui.label("drop images here or use File > Open image...");
    }
    let mut clicked = None;
    let ctx = ui.ctx().clone();
    let thumbs = app.views.thumbnails(&app.state);
    for (i, thumb) in thumbs.iter().enumerate() {
        let e = &app.state.images[i];
        let selected = app.state.current == Some(i);
        let mut text = e.name();
        if let Some(run) = &e.run {
            text.push_str(&format!("  · GAX {} steps", run.steps.len()));
        }
        let id = app.textures.show(
            &ctx,
            &format!("thumb {i}"),
            thumb.image_id,
            &thumb.image,
            egui::TextureOptions::LINEAR,
        );
        ui.horizontal(|ui| {
            ui.add(
                egui::Image::new((id, egui::Vec2::splat(32.0)))
                    .alt_text(format!("thumbnail {}", i + 1)),
            );
            if ui.selectable_label(selected, text).clicked() {
                clicked = Some(i);
            }
        });
    }
    if let Some(i) = clicked {
        app.select_image(i);
    }
}

fn gax_section(app: &mut App, ui: &mut egui::Ui) {
    let cfg = &mut app.state.gax;
    let running = app.state.gax_job.is_some();
    ui.add_enabled_ui(!running, |ui| {
        egui::ComboBox::from_label("variant").selected_text(cfg.variant.name()).show_ui(ui, |ui| {
            for v in Variant::ALL {
                ui.selectable_value(&mut cfg.variant, v, v.name());
            }
        });
        ui.add(egui::DragValue::new(&mut cfg.lr).speed(0.001).range(1e-5..=10.0).prefix("lr "));
        ui.add(egui::DragValue::new(&mut cfg.lambda).speed(1.0).range(0.0..=1e6).prefix("λ "));
        ui.add(egui::DragValue::new(&mut cfg.target_co).speed(0.5).prefix("target CO "));
        ui.add(
            egui::DragValue::new(&mut cfg.max_steps)
                .speed(1.0)
                .range(1..=100_000)
                .prefix("max steps "),
        );
    });
    if let Some(run) = app.state.current_run() {
        let last = run.steps.last();
        ui.label(format!("steps: {}", run.steps.len().saturating_sub(1)));
        ui.label(format!("CO: {:.3}", last.map_or(0.0, |s| s.co)));
        if let Some(stop) = run.stop {
            ui.label(format!("ended: {}", stop.describe()));
        }
    }
}

fn methods_section(app: &mut App, ui: &mut egui::Ui) {
    for m in Method::ALL {
        let mut on = app.state.methods.contains(&m);
        if ui.checkbox(&mut on, m.name()).changed() {
            if on {
                app.state.methods.push(m);
                app.state.methods.sort();
            } else {
                app.state.methods.retain(|x| *x != m);
            }
        }
    }
    if blinded(app) {
        return;
    }
    let Some(entry) = app.state.current_entry() else { return };
    if entry.attributions.is_empty() {
        return;
    }
    let mut pick = None;
    egui::Grid::new("co_table").num_columns(3).striped(true).show(ui, |ui| {
        ui.label("method");
        ui.label("CO sum");
        ui.label("CO mult");
        ui.end_row();
        for (m, r) in &entry.attributions {
            if ui.selectable_label(app.state.view == HeatmapSource::Method(*m), m.name()).clicked()
            {
                pick = Some(*m);
            }
            ui.label(format!("{:.3}", r.co_sum));
            ui.label(format!("{:.3}", r.co_mult));
            ui.end_row();
        }
    });
    let has_run = entry.run.is_some();
    if let Some(m) = pick {
        app.state.view = HeatmapSource::Method(m);
    }
    if has_run && ui.button("Show GAX").clicked() {
        app.state.view = HeatmapSource::Gax;
    }
}

/// Whether the review tab hides the model's view of the case on show (blinded read).
fn blinded(app: &App) -> bool {
    let r = &app.state.review;
    app.state.tab == crate::app::state::Tab::Review && r.current.is_some_and(|i| !r.visible(i))
}

//! The dataset tab: run AX over a labelled folder, then box plots and histograms of CO split by
//! correct vs wrong predictions, the statistics table, and click-through to single images.

use egui_plot::{Bar, BarChart, BoxElem, BoxPlot, BoxSpread, Legend, Plot, PlotPoint, Text};

use crate::app::App;
use crate::app::state::DatasetPick;
use crate::ax::HeatmapSource;
use crate::ax::Variant;
use crate::dataset::stats::Quartiles;

const CORRECT: egui::Color32 = egui::Color32::from_rgb(70, 150, 230);
const WRONG: egui::Color32 = egui::Color32::from_rgb(230, 110, 70);

/// Draws the dataset tab.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading("Dataset");
    ui.horizontal(|ui| {
        ui.label("folder");
        ui.add(
            egui::TextEdit::singleline(&mut app.state.dataset.dir)
                .desired_width(360.0)
                .hint_text("an ImageFolder tree: one subfolder per class"),
        );
        if ui.button("Browse...").clicked()
            && let Some(p) = rfd::FileDialog::new().pick_folder()
        {
            app.state.dataset.dir = p.display().to_string();
        }
        let running = app.state.dataset.job.is_some();
        ui.add(
            egui::DragValue::new(&mut app.state.dataset.gax_steps)
                .range(0..=5000)
                .prefix("GAX steps "),
        )
        .on_hover_text(
            "also run GAX on every image, both variants, up to this many steps (0: off)",
        );
        if ui.add_enabled(!running, egui::Button::new("Run on folder")).clicked() {
            let methods = app.state.methods.clone();
            let gax_steps = app.state.dataset.gax_steps;
            app.run_dataset(methods, 16, gax_steps);
        }
        if ui.add_enabled(running, egui::Button::new("Cancel run")).clicked() {
            app.stop_dataset();
        }
    });
    if let Some(p) = app.state.dataset.progress {
        let frac = if p.total == 0 { 1.0 } else { p.done as f32 / p.total as f32 };
        ui.add(egui::ProgressBar::new(frac).text(format!(
            "{}/{} images, {:.2} images/s, {:.0} s left",
            p.done, p.total, p.rate, p.eta
        )));
    }
    let Some(summary) = app.state.dataset.summary.clone() else {
        ui.label(
            "choose a folder and press Run on folder (the methods ticked on the left are scored)",
        );
        return;
    };
    ui.horizontal(|ui| {
        ui.label(format!("{} images, accuracy before AX {:.3}", summary.images, summary.accuracy));
        egui::ComboBox::from_label("variant")
            .selected_text(app.state.dataset.variant.name())
            .show_ui(ui, |ui| {
                for v in Variant::ALL {
                    ui.selectable_value(&mut app.state.dataset.variant, v, v.name());
                }
            });
    });
    let variant = app.state.dataset.variant;
    let groups: Vec<_> = summary.groups.iter().filter(|g| g.variant == variant).cloned().collect();
    let methods: Vec<HeatmapSource> = groups.iter().map(|g| g.method).collect();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.strong("CO by method: correct (blue) vs wrong (orange); click a box to list its images");
        let boxes = |correct: bool| -> Vec<BoxElem> {
            groups
                .iter()
                .enumerate()
                .filter_map(|(i, g)| {
                    let q: &Quartiles = if correct { &g.correct } else { &g.wrong };
                    (q.count > 0).then(|| {
                        let x = 3.0 * i as f64 + if correct { 0.0 } else { 1.0 };
                        BoxElem::new(x, BoxSpread::new(q.min, q.q1, q.median, q.q3, q.max))
                            .name(format!(
                                "{} {}",
                                g.method,
                                if correct { "correct" } else { "wrong" }
                            ))
                            .fill(if correct { CORRECT } else { WRONG }.gamma_multiply(0.4))
                            .stroke(egui::Stroke::new(1.5, if correct { CORRECT } else { WRONG }))
                    })
                })
                .collect()
        };
        let resp = Plot::new("co_boxes")
            .height(220.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .show_x(false)
            .show(ui, |p| {
                p.box_plot(BoxPlot::new("correct", boxes(true)).color(CORRECT));
                p.box_plot(BoxPlot::new("wrong", boxes(false)).color(WRONG));
                let low = groups
                    .iter()
                    .map(|g| g.correct.min.min(g.wrong.min))
                    .filter(|v| v.is_finite())
                    .fold(f64::MAX, f64::min);
                for (i, m) in methods.iter().enumerate() {
                    p.text(
                        Text::new(m.name(), PlotPoint::new(3.0 * i as f64 + 0.5, low), m.name())
                            .anchor(egui::Align2::CENTER_TOP),
                    );
                }
                p.pointer_coordinate()
            });
        if resp.response.clicked()
            && let Some(pt) = resp.inner
        {
            // Method i has its correct box at x = 3i and its wrong box at x = 3i + 1.
            let off = pt.x - 3.0 * (pt.x / 3.0).floor();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let idx = (pt.x / 3.0).floor().max(0.0) as usize;
            if let Some(m) = methods.get(idx) {
                app.state.dataset.pick =
                    Some(DatasetPick { method: *m, correct: off < 0.5, range: None });
                app.state.dataset.method = Some(*m);
            }
        }
        histogram(app, ui, &methods);
        stats_table(ui, &summary);
        picked_list(app, ui);
    });
}

fn histogram(app: &mut App, ui: &mut egui::Ui, methods: &[HeatmapSource]) {
    let Some(method) = app.state.dataset.method.or_else(|| methods.first().copied()) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.strong("Histogram of CO for");
        egui::ComboBox::from_label("histogram method").selected_text(method.name()).show_ui(
            ui,
            |ui| {
                for m in methods {
                    if ui.selectable_label(*m == method, m.name()).clicked() {
                        app.state.dataset.method = Some(*m);
                    }
                }
            },
        );
    });
    let variant = app.state.dataset.variant;
    let values = |correct: bool| -> Vec<f64> {
        app.state
            .dataset
            .rows
            .iter()
            .filter(|r| r.method == method && r.variant == variant && r.correct == correct)
            .map(|r| f64::from(r.co))
            .collect()
    };
    let (c, w) = (values(true), values(false));
    let all: Vec<f64> = c.iter().chain(&w).copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    if all.is_empty() {
        return;
    }
    let bins = 20;
    let width = ((hi - lo) / bins as f64).max(1e-9);
    let count = |vals: &[f64]| -> Vec<f64> {
        let mut h = vec![0.0; bins];
        for v in vals {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
            h[b] += 1.0;
        }
        h
    };
    let bars = |h: Vec<f64>| -> Vec<Bar> {
        h.into_iter()
            .enumerate()
            .map(|(i, n)| Bar::new(lo + (i as f64 + 0.5) * width, n).width(width * 0.95))
            .collect()
    };
    let resp = Plot::new("co_hist")
        .height(160.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |p| {
            p.bar_chart(
                BarChart::new("correct", bars(count(&c))).color(CORRECT.gamma_multiply(0.6)),
            );
            p.bar_chart(BarChart::new("wrong", bars(count(&w))).color(WRONG.gamma_multiply(0.6)));
            p.pointer_coordinate()
        });
    if resp.response.clicked()
        && let Some(pt) = resp.inner
    {
        let b = ((pt.x - lo) / width).floor().clamp(0.0, bins as f64 - 1.0);
        let (a, z) = (
            lo + b * width,
            lo + (b + 1.0) * width + if b as usize == bins - 1 { 1e-9 } else { 0.0 },
        );
        let correct = count(&c)[b as usize] >= count(&w)[b as usize];
        app.state.dataset.pick = Some(DatasetPick { method, correct, range: Some((a, z)) });
    }
}

fn stats_table(ui: &mut egui::Ui, summary: &crate::dataset::Summary) {
    ui.strong("Statistics");
    let lesions = summary.groups.iter().any(|g| g.lesion_images > 0);
    let mut headers = vec![
        "method",
        "variant",
        "n correct",
        "median correct",
        "n wrong",
        "median wrong",
        "gap",
        "AUROC",
        "acc after AX",
    ];
    if lesions {
        headers.extend(["n lesion", "mass in mask", "pointing"]);
    }
    egui::Grid::new("ds_stats").striped(true).num_columns(headers.len()).show(ui, |ui| {
        for h in headers {
            ui.strong(h);
        }
        ui.end_row();
        for g in &summary.groups {
            ui.label(g.method.name());
            ui.label(g.variant.name());
            ui.label(g.correct.count.to_string());
            ui.label(format!("{:.3}", g.correct.median));
            ui.label(g.wrong.count.to_string());
            ui.label(format!("{:.3}", g.wrong.median));
            ui.label(format!("{:.3}", g.gap));
            ui.label(format!("{:.3}", g.auroc));
            ui.label(format!("{:.3}", g.accuracy_after_ax));
            if lesions {
                ui.label(g.lesion_images.to_string());
                ui.label(format!("{:.3}", g.mask_mass));
                ui.label(format!("{:.3}", g.pointing));
            }
            ui.end_row();
        }
    });
}

fn picked_list(app: &mut App, ui: &mut egui::Ui) {
    let Some(pick) = app.state.dataset.pick.clone() else { return };
    let rows: Vec<(String, f32, i64)> =
        app.state.dataset.picked_rows().iter().map(|r| (r.image.clone(), r.co, r.label)).collect();
    ui.separator();
    let what = if pick.correct { "correct" } else { "wrong" };
    let range = pick.range.map_or_else(String::new, |(a, b)| format!(", CO in [{a:.2}, {b:.2})"));
    ui.strong(format!("{} images: {} {what}{range}", rows.len(), pick.method.name()));
    let mut open = None;
    for (image, co, label) in rows.iter().take(200) {
        ui.horizontal(|ui| {
            if ui.button(format!("open {image}")).clicked() {
                open = Some((image.clone(), *label));
            }
            ui.label(format!("CO {co:.3}"));
        });
    }
    if let Some((image, label)) = open {
        app.open_dataset_image(&image, pick.method, label);
    }
}

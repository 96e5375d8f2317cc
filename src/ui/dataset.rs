//! The dataset tab: run AX over a labelled folder, then box plots and histograms of CO split by
//! correct vs wrong predictions, the statistics table, and click-through to single images. The
//! numbers come ready-made from the view model (`crate::view_model::dataset`).

use egui_plot::{Bar, BarChart, BoxElem, BoxPlot, BoxSpread, GridMark, Legend, Plot, PlotPoint};

use crate::app::App;
use crate::ax::HeatmapSource;
use crate::ax::Variant;
use crate::view_model::dataset::{BoxStat, method_at_mark, short_name};
use crate::view_model::{Axis, DatasetView};

const CORRECT: egui::Color32 = egui::Color32::from_rgb(70, 150, 230);
const WRONG: egui::Color32 = egui::Color32::from_rgb(230, 110, 70);

/// Draws the dataset tab.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading("Dataset");
    run_controls(app, ui);
    pathology_row(app, ui);
    super::demo::controls(app, ui);
    let demo = !app.state.demo.results.is_empty();
    let summary = app.state.dataset.summary.as_ref().map(|s| (s.images, s.accuracy));
    if summary.is_none() && !demo {
        ui.label(
            "choose a folder and press Run on folder (the methods ticked on the left are \
             scored), or press Demo data",
        );
        return;
    }
    ui.horizontal(|ui| {
        if let Some((images, accuracy)) = summary {
            ui.label(format!("{images} images, accuracy before AX {accuracy:.3}"));
        }
        let variant = &mut app.state.dataset.variant;
        egui::ComboBox::from_label("variant").selected_text(variant.name()).show_ui(ui, |ui| {
            for v in Variant::ALL {
                ui.selectable_value(variant, v, v.name());
            }
        });
    });
    // The box plots take what the window gives, the histogram stays folded below the table.
    let height = (ui.available_height() * 0.45).clamp(180.0, 420.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        if demo {
            super::demo::results(app, ui, height);
        }
        if summary.is_none() {
            return;
        }
        ui.strong("CO by method: correct (blue) vs wrong (orange); click a box to list its images");
        // Each part asks for the view afresh: a click above may have changed what it shows.
        if let Some(view) = app.views.dataset(&app.state) {
            box_plot(app, ui, &view, height);
            stats_table(ui, &view);
        }
        egui::CollapsingHeader::new("Histogram of CO").id_salt("co_hist_section").show(ui, |ui| {
            histogram(app, ui);
        });
        if let Some(view) = app.views.dataset(&app.state) {
            picked_list(app, ui, &view);
        }
    });
}

fn run_controls(app: &mut App, ui: &mut egui::Ui) {
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
        let splits = match p.splits {
            0 => String::new(),
            n => format!(" ({n} batches split after running out of memory)"),
        };
        ui.add(egui::ProgressBar::new(p.fraction()).text(format!(
            "{}/{} images, {:.2} images/s, {:.0} s left{splits}",
            p.done, p.total, p.rate, p.eta
        )));
    }
}

fn box_elem(b: &BoxStat) -> BoxElem {
    let (what, colour) = if b.correct { ("correct", CORRECT) } else { ("wrong", WRONG) };
    let q = &b.q;
    BoxElem::new(b.x, BoxSpread::new(q.min, q.q1, q.median, q.q3, q.max))
        .name(format!("{} {what}", b.method))
        .fill(colour.gamma_multiply(0.4))
        .stroke(egui::Stroke::new(1.5, colour))
}

/// CO box plots of `boxes`, `height` points high: every box whole, the method names under
/// their boxes on the x axis. Returns the pointer's plot position when the plot was clicked.
pub(super) fn co_boxes(
    ui: &mut egui::Ui,
    id: &str,
    boxes: &[BoxStat],
    methods: &[HeatmapSource],
    y_axis: Option<&Axis>,
    height: f32,
) -> Option<PlotPoint> {
    let names = methods.to_vec();
    let n = methods.len();
    let mut plot = Plot::new(id)
        .height(height)
        .allow_scroll(false)
        .show_x(false)
        .default_x_bounds(-0.75, DatasetView::label_x(n.saturating_sub(1)) + 1.25)
        .x_grid_spacer(move |_| {
            (0..n).map(|i| GridMark { value: DatasetView::label_x(i), step_size: 3.0 }).collect()
        })
        .x_axis_formatter(move |mark, _| {
            method_at_mark(&names, mark.value)
                .map_or_else(String::new, |m| short_name(m).to_owned())
        });
    if let Some(axis) = y_axis {
        let (marks, labels) = (axis.clone(), axis.clone());
        plot = plot
            .default_y_bounds(axis.min, axis.max)
            .y_grid_spacer(move |_| {
                let step = marks.step;
                marks.ticks.iter().map(|&value| GridMark { value, step_size: step }).collect()
            })
            .y_axis_formatter(move |mark, _| labels.label(mark.value));
    }
    let part = |correct: bool| -> Vec<BoxElem> {
        boxes.iter().filter(|b| b.correct == correct).map(box_elem).collect()
    };
    let resp = plot.show(ui, |p| {
        p.box_plot(BoxPlot::new("correct", part(true)).color(CORRECT));
        p.box_plot(BoxPlot::new("wrong", part(false)).color(WRONG));
        p.pointer_coordinate()
    });
    if resp.response.clicked() { resp.inner } else { None }
}

fn box_plot(app: &mut App, ui: &mut egui::Ui, view: &DatasetView, height: f32) {
    let clicked =
        co_boxes(ui, "co_boxes", &view.boxes, &view.methods, view.y_axis.as_ref(), height);
    if let Some(pick) = clicked.and_then(|pt| view.box_at(pt.x)) {
        app.state.dataset.method = Some(pick.method);
        app.state.dataset.pick = Some(pick);
    }
}

fn histogram(app: &mut App, ui: &mut egui::Ui) {
    let Some(view) = app.views.dataset(&app.state) else { return };
    let Some(shown) = view.histogram.as_ref().map(|h| h.method) else { return };
    ui.horizontal(|ui| {
        ui.label("method");
        egui::ComboBox::from_label("histogram method").selected_text(shown.name()).show_ui(
            ui,
            |ui| {
                for m in &view.methods {
                    if ui.selectable_label(*m == shown, m.name()).clicked() {
                        app.state.dataset.method = Some(*m);
                    }
                }
            },
        );
    });
    let Some(view) = app.views.dataset(&app.state) else { return };
    let Some(hist) = &view.histogram else { return };
    let bars = |counts: &[f64]| -> Vec<Bar> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &n)| Bar::new(hist.centre(i), n).width(hist.width * 0.95))
            .collect()
    };
    let resp = Plot::new("co_hist")
        .height(140.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .show(ui, |p| {
            let correct = BarChart::new("correct", bars(&hist.correct));
            p.bar_chart(correct.color(CORRECT.gamma_multiply(0.6)));
            p.bar_chart(BarChart::new("wrong", bars(&hist.wrong)).color(WRONG.gamma_multiply(0.6)));
            p.pointer_coordinate()
        });
    if resp.response.clicked()
        && let Some(pt) = resp.inner
    {
        app.state.dataset.pick = Some(hist.pick_at(pt.x));
    }
}

pub(super) fn stats_table(ui: &mut egui::Ui, view: &DatasetView) {
    ui.strong("Statistics");
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
    if view.lesions {
        headers.extend(["n lesion", "mass in mask", "pointing"]);
    }
    egui::Grid::new("ds_stats").striped(true).num_columns(headers.len()).show(ui, |ui| {
        for h in headers {
            ui.strong(h);
        }
        ui.end_row();
        for g in &view.all_groups {
            ui.label(g.method.name());
            ui.label(g.variant.name());
            ui.label(g.correct.count.to_string());
            ui.label(format!("{:.3}", g.correct.median));
            ui.label(g.wrong.count.to_string());
            ui.label(format!("{:.3}", g.wrong.median));
            ui.label(format!("{:.3}", g.gap));
            ui.label(format!("{:.3}", g.auroc));
            ui.label(format!("{:.3}", g.accuracy_after_ax));
            if view.lesions {
                ui.label(g.lesion_images.to_string());
                ui.label(format!("{:.3}", g.mask_mass));
                ui.label(format!("{:.3}", g.pointing));
            }
            ui.end_row();
        }
    });
}

fn picked_list(app: &mut App, ui: &mut egui::Ui, view: &DatasetView) {
    let Some(pick) = &view.pick else { return };
    ui.separator();
    let what = if pick.correct { "correct" } else { "wrong" };
    let range = pick.range.map_or_else(String::new, |(a, b)| format!(", CO in [{a:.2}, {b:.2})"));
    ui.strong(format!("{} images: {} {what}{range}", view.picked.len(), pick.method.name()));
    let mut open = None;
    for p in view.picked.iter().take(200) {
        ui.horizontal(|ui| {
            if ui.button(format!("open {}", p.image)).clicked() {
                open = Some((p.image.clone(), p.label));
            }
            ui.label(format!("CO {:.3}", p.co));
        });
    }
    if let Some((image, label)) = open {
        app.open_dataset_image(&image, pick.method, label);
    }
}

/// For a multi-label model: the pathology to score, whose folder holds `positive/` and
/// `negative/` (labels 1 and 0; a prediction is positive when the output's logit is above 0).
fn pathology_row(app: &mut App, ui: &mut egui::Ui) {
    let Some(labels) = app.state.model.as_ref().filter(|m| m.multilabel).map(|m| m.labels.clone())
    else {
        return;
    };
    let pick = &mut app.state.dataset.pathology;
    let shown = pick
        .and_then(|p| usize::try_from(p).ok())
        .and_then(|p| labels.get(p))
        .map_or("pick one", String::as_str);
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("pathology to score").selected_text(shown).show_ui(ui, |ui| {
            for (i, l) in labels.iter().enumerate() {
                ui.selectable_value(pick, Some(crate::convert::to_i64(i)), l);
            }
        });
        ui.label("the folder holds PATHOLOGY/positive and PATHOLOGY/negative");
    });
}

//! The dataset tab's demo: the "Demo data" button with its count, folder and progress, and the
//! two shipped models' gap tables and CO box plots side by side.

use crate::app::App;
use crate::worker::demo::DemoStage;

/// A statistic, or a dash where there is none (no wrongly predicted image, say).
fn number(v: f64) -> String {
    if v.is_finite() { format!("{v:.3}") } else { "–".to_owned() }
}

/// The demo's row: the button, the phantom count, the data folder, Cancel and the progress.
pub fn controls(app: &mut App, ui: &mut egui::Ui) {
    let running = app.state.demo.job.is_some();
    ui.horizontal(|ui| {
        let methods: Vec<&str> = app.state.demo.methods.iter().map(|m| m.name()).collect();
        let hover = format!(
            "write seeded synthetic radiographs (phantoms) into the data folder, then score them \
             ({}) with both shipped models, the well-trained and the under-trained one, and show \
             their correct/wrong CO gaps side by side",
            methods.join(", ")
        );
        let button = ui.add_enabled(!running, egui::Button::new("Demo data")).on_hover_text(hover);
        if button.clicked() {
            app.run_demo();
        }
        ui.add_enabled(
            !running,
            egui::DragValue::new(&mut app.state.demo.count).range(2..=5000).suffix(" phantoms"),
        )
        .on_hover_text("how many phantoms the demo writes (half of them with pneumonia)");
        ui.label(format!("into {}", crate::app::demo::shown_path(&app.state.demo.root)))
            .on_hover_text("the data folder (set HEATMAP_EXPLORER_DATA to choose another)");
        if ui.add_enabled(running, egui::Button::new("Cancel demo")).clicked() {
            app.stop_demo();
        }
    });
    let Some(stage) = &app.state.demo.stage else { return };
    let (fraction, text) = match stage {
        DemoStage::Generating { folder, count } => {
            (0.0, format!("writing {count} phantoms into {}", folder.display()))
        }
        DemoStage::Scoring { name, progress: None, .. } => {
            (0.0, format!("loading the {name} model"))
        }
        DemoStage::Scoring { name, progress: Some(p), .. } => (
            p.fraction(),
            format!("{name} model: {}/{} images, {:.0} s left", p.done, p.total, p.eta),
        ),
    };
    ui.add(egui::ProgressBar::new(fraction).text(text).animate(true));
}

/// The finished models' results side by side, box plots `height` points high.
pub fn results(app: &mut App, ui: &mut egui::Ui, height: f32) {
    let view = app.views.demo(&app.state);
    let header = "Demo: the paper's gap, CO of correctly minus wrongly predicted images";
    egui::CollapsingHeader::new(header).default_open(true).show(ui, |ui| {
        ui.label(
            "a positive gap: correct predictions gain more confidence from their own heatmap \
             than wrong ones",
        );
        panels(ui, &view, height);
    });
    if let Some(r) = app.state.demo.results.first() {
        ui.label(format!(
            "phantoms in {} (the folder above now points there); rows in {}",
            r.folder.display(),
            r.csv.with_file_name("").display()
        ));
    }
    ui.separator();
}

/// The models' columns: heading, accuracy, box plot and gap table each.
fn panels(ui: &mut egui::Ui, view: &crate::view_model::DemoView, height: f32) {
    let columns = view.panels.len().max(1);
    ui.columns(columns, |cols| {
        for (i, (ui, p)) in cols.iter_mut().zip(&view.panels).enumerate() {
            ui.strong(format!("gap table: {} model ({})", p.name, p.card));
            ui.label(format!(
                "accuracy {:.3} on {} phantoms: {} correct, {} wrong",
                p.accuracy, p.images, p.correct, p.wrong
            ));
            let id = format!("demo_boxes_{i}");
            super::dataset::co_boxes(
                ui,
                &id,
                &p.boxes,
                &p.methods,
                p.y_axis.as_ref(),
                height * 0.8,
            );
            egui::Grid::new(("demo_gap", i)).striped(true).num_columns(5).show(ui, |ui| {
                for h in ["method", "median correct", "median wrong", "gap", "AUROC"] {
                    ui.strong(h);
                }
                ui.end_row();
                for g in &p.groups {
                    ui.label(g.method.name());
                    ui.label(number(g.correct.median));
                    ui.label(number(g.wrong.median));
                    ui.label(number(g.gap));
                    ui.label(number(g.auroc));
                    ui.end_row();
                }
            });
        }
    });
}

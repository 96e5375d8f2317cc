//! The top bar: title, File menu (open, save, export) and recent files.

use crate::app::App;
use crate::model::ModelSource;

fn pick(filter_name: &str, exts: &[&str]) -> Option<std::path::PathBuf> {
    rfd::FileDialog::new().add_filter(filter_name, exts).pick_file()
}

fn pick_save(name: &str, ext: &str) -> Option<std::path::PathBuf> {
    rfd::FileDialog::new().set_file_name(name).add_filter(ext, &[ext]).save_file()
}

/// Draws the top bar.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading(super::REGION_LABELS[0]);
        ui.separator();
        ui.menu_button("File", |ui| {
            if ui.button("Open image...").clicked() {
                if let Some(p) =
                    pick("images", &["png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif"])
                {
                    app.open_image(p);
                }
                ui.close();
            }
            if ui.button("Open model card...").clicked() {
                if let Some(p) = pick("model card", &["json"]) {
                    app.open_model(ModelSource::Card(p));
                }
                ui.close();
            }
            if ui.button("Open TorchScript model...").clicked() {
                if let Some(p) = pick("TorchScript", &["pt", "ts"]) {
                    app.open_path(p);
                }
                ui.close();
            }
            if ui.button("Open GAX run...").clicked() {
                if let Some(p) = pick("GAX run", &["gaxrun"]) {
                    app.open_run(p);
                }
                ui.close();
            }
            ui.separator();
            let has_run = app.state.current_run().is_some();
            if ui.add_enabled(has_run, egui::Button::new("Save GAX run...")).clicked() {
                if let Some(p) = pick_save("run.gaxrun", "gaxrun") {
                    app.save_run(&p);
                }
                ui.close();
            }
            if ui.add_enabled(has_run, egui::Button::new("Export steps as .npy...")).clicked() {
                if let Some(p) = pick_save("steps.npy", "npy") {
                    app.export_steps_npy(&p);
                }
                ui.close();
            }
            if ui.add_enabled(has_run, egui::Button::new("Export CO curve as CSV...")).clicked() {
                if let Some(p) = pick_save("trace.csv", "csv") {
                    app.export_trace_csv(&p);
                }
                ui.close();
            }
            if ui.add_enabled(has_run, egui::Button::new("Export GAX run as GIF...")).clicked() {
                if let Some(p) = pick_save("gax.gif", "gif") {
                    app.export_gif(&p);
                }
                ui.close();
            }
            if ui.button("Export whole view as PNG...").clicked() {
                if let Some(p) = pick_save("view.png", "png") {
                    app.export_view_png(ui.ctx(), &p);
                }
                ui.close();
            }
            if ui.add_enabled(has_run, egui::Button::new("Export heatmap as .npy...")).clicked() {
                if let Some(p) = pick_save("heatmap.npy", "npy") {
                    app.export_heatmap_npy(&p);
                }
                ui.close();
            }
            ui.separator();
            ui.menu_button("Recent", |ui| {
                let recent = app.state.recent.clone();
                if recent.is_empty() {
                    ui.label("nothing yet");
                }
                for p in recent {
                    if ui.button(p.display().to_string()).clicked() {
                        app.open_path(p);
                        ui.close();
                    }
                }
            });
        });
        ui.separator();
        ui.selectable_value(&mut app.state.tab, crate::app::state::Tab::Explorer, "Explorer tab");
        ui.selectable_value(&mut app.state.tab, crate::app::state::Tab::Dataset, "Dataset tab");
        ui.selectable_value(&mut app.state.tab, crate::app::state::Tab::Toy2d, "2-D example tab");
        if let Some(m) = &app.state.model {
            ui.separator();
            ui.label(format!("model: {} · {} classes", m.arch, m.classes));
        }
    });
}

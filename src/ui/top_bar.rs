//! The top bar: title, File menu (open, save, export) and recent files.

use crate::app::App;
use crate::model::ModelSource;

fn pick(filter_name: &str, exts: &[&str]) -> Option<std::path::PathBuf> {
    rfd::FileDialog::new().add_filter(filter_name, exts).pick_file()
}

/// Asks where to save a file named like `name` (its extension is the filter).
fn pick_save(name: &str) -> Option<std::path::PathBuf> {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    rfd::FileDialog::new().set_file_name(name).add_filter(ext, &[ext]).save_file()
}

/// What a save entry does with the chosen path.
type SaveTo = fn(&mut App, &std::path::Path);

/// A menu entry that asks for a path (default `name`) and hands it to `save`.
fn save_entry(
    app: &mut App,
    ui: &mut egui::Ui,
    enabled: bool,
    label: &str,
    name: &str,
    save: SaveTo,
) {
    if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
        if let Some(p) = pick_save(name) {
            save(app, &p);
        }
        ui.close();
    }
}

/// Draws the top bar.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading(super::REGION_LABELS[0]);
        ui.separator();
        ui.menu_button("File", |ui| {
            if ui.button("Open image...").clicked() {
                if let Some(p) =
                    pick("images", &["png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif", "dcm"])
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
            let run_files: [(&str, &str, SaveTo); 4] = [
                ("Save GAX run...", "run.gaxrun", App::save_run),
                ("Export steps as .npy...", "steps.npy", App::export_steps_npy),
                ("Export CO curve as CSV...", "trace.csv", App::export_trace_csv),
                ("Export GAX run as GIF...", "gax.gif", App::export_gif),
            ];
            for (label, name, save) in run_files {
                save_entry(app, ui, has_run, label, name, save);
            }
            if ui.button("Export whole view as PNG...").clicked() {
                if let Some(p) = pick_save("view.png") {
                    app.export_view_png(ui.ctx(), &p);
                }
                ui.close();
            }
            let heatmap = "Export heatmap as .npy...";
            save_entry(app, ui, has_run, heatmap, "heatmap.npy", App::export_heatmap_npy);
            let has_image = app.state.current_entry().is_some();
            let input = "Export what the model saw as .npy...";
            save_entry(app, ui, has_image, input, "model_input.npy", App::export_model_input_npy);
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
        ui.selectable_value(&mut app.state.tab, crate::app::state::Tab::Review, "Review tab");
        if let Some(m) = &app.state.model {
            ui.separator();
            ui.label(format!("model: {} · {} classes", m.arch, m.classes));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let help = ui.selectable_label(app.state.help_open, "Help (F1)");
            if help.on_hover_text("shortcuts and what each panel shows").clicked() {
                app.state.help_open = !app.state.help_open;
            }
        });
    });
}

//! The status line: the last message (errors in red and warnings in yellow, until dismissed),
//! the device in use, and a spinner (with a cancel button for file tasks) while work runs in the
//! background.

use crate::app::App;

/// Draws the status line.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let s = &app.state.status;
        let sticky = s.error || s.warning;
        let text = if s.error {
            egui::RichText::new(format!("error: {}", s.text)).color(ui.visuals().error_fg_color)
        } else if s.warning {
            egui::RichText::new(format!("warning: {}", s.text)).color(ui.visuals().warn_fg_color)
        } else {
            egui::RichText::new(&s.text)
        };
        ui.label(text);
        if sticky && ui.small_button("Dismiss").on_hover_text("Hide this message").clicked() {
            app.state.dismiss_error();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(format!("device: {}", app.state.device));
            if let Some(e) = app.state.current_entry() {
                ui.label(format!("image: {}", e.name()));
            }
            let files = app.exports_running() || app.review_opening();
            let stop = "Stop the exports, saves and opens running in the background";
            if files && ui.small_button("Cancel file tasks").on_hover_text(stop).clicked() {
                app.cancel_exports();
            }
            if let Some((done, total)) = app.export_progress() {
                let fraction = crate::convert::to_f32(done) / crate::convert::to_f32(total);
                let bar = egui::ProgressBar::new(fraction).desired_width(120.0);
                ui.add(bar.text(format!("{done}/{total}")));
            }
            if !app.state.pending.is_empty() || files {
                ui.spinner();
            }
        });
    });
}

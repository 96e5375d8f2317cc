//! The status line: the last message (errors in red and warnings in yellow, until dismissed)
//! and the device in use.

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
            if app.state.exports_running > 0
                && ui.small_button("Cancel export").on_hover_text("Stop the exports").clicked()
            {
                app.cancel_exports();
            }
            if !app.state.pending.is_empty() || app.state.exports_running > 0 {
                ui.spinner();
            }
        });
    });
}

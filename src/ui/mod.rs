//! Drawing: the four regions (top bar, controls, view, timeline) and the status line. UI code
//! reads the state and calls the app's command methods; it never touches tensors.

mod controls;
mod dataset;
mod status;
mod textures;
mod timeline;
mod top_bar;
mod toy2d;
mod view;

pub use textures::Textures;

use crate::app::App;

/// The heading of each region, also its accessible label.
pub const REGION_LABELS: [&str; 4] = ["heatmap-explorer", "Controls", "View", "Timeline"];

/// Draws the whole window.
pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("top_bar").show(ui, |ui| top_bar::show(app, ui));
    egui::Panel::bottom("status_line").show(ui, |ui| status::show(app, ui));
    if app.state.tab == crate::app::state::Tab::Explorer {
        egui::Panel::bottom("timeline")
            .resizable(true)
            .default_size(280.0)
            .min_size(220.0)
            .show(ui, |ui| timeline::show(app, ui));
    }
    if app.state.tab != crate::app::state::Tab::Toy2d {
        egui::Panel::left("controls").resizable(true).default_size(270.0).show(ui, |ui| {
            controls::pinned(app, ui);
            egui::ScrollArea::vertical().show(ui, |ui| controls::show(app, ui));
        });
    }
    egui::CentralPanel::default().show(ui, |ui| match app.state.tab {
        crate::app::state::Tab::Explorer => view::show(app, ui),
        crate::app::state::Tab::Dataset => dataset::show(app, ui),
        crate::app::state::Tab::Toy2d => toy2d::show(app, ui),
    });
}

//! Drawing: the four regions (top bar, controls, view, timeline), the method comparison beside
//! the view, the status line and the help overlay. UI code reads the state and calls the app's
//! command methods; it never touches tensors.

mod comparison;
mod controls;
mod dataset;
mod demo;
mod help;
mod reading;
mod review;
mod status;
mod textures;
mod timeline;
mod top_bar;
mod toy2d;
mod view;
mod window;

pub use textures::Textures;
pub use timeline::MIN_PLOT_HEIGHT;

use crate::app::App;
use crate::app::state::Tab;

/// The heading of each region, also its accessible label.
pub const REGION_LABELS: [&str; 4] = ["heatmap-explorer", "Controls", "View", "Timeline"];

/// Draws the whole window.
pub fn draw(app: &mut App, ui: &mut egui::Ui) {
    help::keys(app, ui.ctx());
    egui::Panel::top("top_bar").show(ui, |ui| top_bar::show(app, ui));
    egui::Panel::bottom("status_line").show(ui, |ui| status::show(app, ui));
    // The comparison takes the full height beside the view and the timeline, so all seven
    // tiles fit on a laptop screen.
    // Panel sizes start from the saved ones (egui remembers them within a session) and are
    // recorded for the next.
    let sizes = app.state.sizes;
    if app.state.tab == Tab::Explorer && comparison::has_tiles(app) {
        let r = egui::Panel::right("comparison")
            .resizable(true)
            .default_size(sizes.comparison)
            .show(ui, |ui| comparison::show(app, ui));
        app.state.sizes.comparison = r.response.rect.width();
    }
    if app.state.tab == Tab::Explorer {
        // The default leaves room for the step controls, the legend and a CO plot of at least
        // MIN_PLOT_HEIGHT; the minimum keeps that plot readable.
        let r = egui::Panel::bottom("timeline")
            .resizable(true)
            .default_size(sizes.timeline)
            .min_size(220.0)
            .show(ui, |ui| timeline::show(app, ui));
        app.state.sizes.timeline = r.response.rect.height();
    }
    if app.state.tab != Tab::Toy2d {
        let r = egui::Panel::left("controls").resizable(true).default_size(sizes.controls).show(
            ui,
            |ui| {
                controls::pinned(app, ui);
                egui::ScrollArea::vertical().show(ui, |ui| controls::show(app, ui));
            },
        );
        app.state.sizes.controls = r.response.rect.width();
    }
    egui::CentralPanel::default().show(ui, |ui| match app.state.tab {
        Tab::Explorer => view::show(app, ui),
        Tab::Dataset => dataset::show(app, ui),
        Tab::Toy2d => toy2d::show(app, ui),
        Tab::Review => review::show(app, ui),
    });
    help::window(app, ui.ctx());
}

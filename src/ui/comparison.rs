//! The method comparison, a panel beside the view: each method's channel-sum map (and the GAX
//! heatmap at the selected step) as a tile with its CO scores, each on its own scale or on one
//! shared scale; a click on a tile shows that heatmap in the view with all its channels (one
//! for a 1-channel model). The tiles come from `crate::view_model::tiles`, their size from
//! `crate::view_model::layout`.

use egui::{TextureOptions, Vec2};

use crate::app::App;
use crate::app::state::CompareScale;
use crate::view_model::layout;

/// The panel's heading, also its accessible label.
pub const HEADING: &str = "Method comparison";

/// Whether the current image has anything to compare (the panel is drawn only then).
pub fn has_tiles(app: &mut App) -> bool {
    !app.views.comparison(&app.state).is_empty()
}

/// Draws the comparison.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(HEADING);
    for s in CompareScale::ALL {
        ui.radio_value(&mut app.state.compare_scale, s, s.label());
    }
    let one = app.state.model.as_ref().is_some_and(|m| m.channels == 1);
    let what = if one { "the one channel" } else { "channel sum" };
    ui.small(format!("{what}; CO with x+h | x*h; click a tile to show it in the view"));
    let tiles = app.views.comparison(&app.state);
    let size = ui.available_size();
    let side = layout::tile_side(size.x, size.y, tiles.len(), 3);
    let ctx = ui.ctx().clone();
    let mut pick = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("comparison tiles").spacing([layout::GAP, 2.0]).show(ui, |ui| {
            for (k, t) in tiles.iter().enumerate() {
                let name = format!("cmp {}", t.source.name());
                let id = app.textures.show(&ctx, &name, t.id, &t.image, TextureOptions::NEAREST);
                ui.vertical(|ui| {
                    ui.set_max_width(side);
                    let selected = app.state.view == t.source;
                    let title = egui::RichText::new(&t.title);
                    let title = if selected { title.strong() } else { title };
                    ui.add(egui::Label::new(title).truncate()).on_hover_text(&t.title);
                    let image = egui::Image::new((id, Vec2::splat(side)))
                        .alt_text(format!("{} tile", t.source.name()))
                        .sense(egui::Sense::click());
                    if ui.add(image).on_hover_text("show in the view").clicked() {
                        pick = Some(t.source);
                    }
                    ui.small(if t.scale > 0.0 {
                        format!("scale ±{:.3e}", t.scale)
                    } else {
                        "all zero".to_owned()
                    });
                    ui.small(&t.scores);
                });
                if k % 2 == 1 {
                    ui.end_row();
                }
            }
        });
    });
    if let Some(source) = pick {
        app.state.view = source;
    }
}

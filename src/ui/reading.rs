//! The reading view of a DICOM image: the full-resolution frame under the window on show, in
//! its physical aspect, with the heatmap laid over it, a live window read-out, a millimetre
//! scale bar where the pixel spacing is known, and drag to window (horizontal = width,
//! vertical = level). Also "what the model saw" for any image. Everything drawn here comes
//! ready-made from `crate::view_model::{window, model_input}`.

use egui::{Align2, Color32, FontId, Stroke, TextureOptions, Vec2};

use crate::app::App;
use crate::view_model::ExplorerView;
use crate::view_model::window::{fitted_size, scale_bar};

/// Draws the reading view when the current image is a grayscale DICOM file, at most about
/// half the height (the heatmap panels below keep room).
pub fn show(app: &mut App, ui: &mut egui::Ui, explorer: Option<&ExplorerView>) {
    draw(app, ui, explorer, false);
}

/// Draws the reading view with the image in all the room left (the review tab).
pub fn show_filling(app: &mut App, ui: &mut egui::Ui, explorer: Option<&ExplorerView>) {
    draw(app, ui, explorer, true);
}

fn draw(app: &mut App, ui: &mut egui::Ui, explorer: Option<&ExplorerView>, fill: bool) {
    let Some((view, revision)) = app.views.dicom(&app.state) else { return };
    let readout = match &view.resolved {
        Ok(r) => format!("window {}", r.readout()),
        Err(e) => format!("window: {e}"),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(&readout);
        ui.checkbox(&mut app.state.reading.model_input, "what the model saw");
    });
    let ctx = ui.ctx().clone();
    let id = app.textures.show(&ctx, "reading", revision, &view.image, TextureOptions::LINEAR);
    let facts = &view.source.facts;
    // Filling: all the room, less a line for the scale bar's label. Else at most about half
    // the height, so the heatmap panels below keep room.
    let max = if fill {
        [ui.available_width().max(160.0), (ui.available_height() - 24.0).max(160.0)]
    } else {
        [
            ui.available_width().clamp(160.0, 640.0),
            (ui.available_height() * 0.5).clamp(160.0, 480.0),
        ]
    };
    let size = fitted_size(view.source.size(), facts.pixel_spacing, max);
    let (uv0, uv1) = app.state.zoom.uv();
    let uv = egui::Rect::from_min_max(uv0.into(), uv1.into());
    let resp = ui.add(
        egui::Image::new((id, Vec2::from(size)))
            .fit_to_exact_size(Vec2::from(size))
            .maintain_aspect_ratio(false)
            .uv(uv)
            .alt_text("DICOM image (drag: window width and level)")
            .sense(egui::Sense::click_and_drag()),
    );
    let rect = resp.rect;
    let painter = ui.painter_at(rect);
    if let Some(layer) =
        explorer.filter(|v| v.has_heatmap).and_then(|v| v.layer.as_ref().map(|l| (v, l)))
    {
        let (v, l) = layer;
        let lid = app.textures.show(&ctx, "reading layer", v.revision, l, TextureOptions::LINEAR);
        painter.image(lid, rect, uv, Color32::WHITE);
    }
    let text_at = |pos: egui::Pos2, anchor: Align2, text: &str| {
        let galley =
            painter.layout_no_wrap(text.to_owned(), FontId::monospace(13.0), Color32::YELLOW);
        let r = anchor.anchor_size(pos, galley.size());
        painter.rect_filled(r.expand(2.0), 2.0, Color32::from_black_alpha(160));
        painter.galley(r.min, galley, Color32::YELLOW);
    };
    if let Ok(r) = &view.resolved {
        let short = format!(
            "W {} L {}",
            crate::view_model::window::number(r.width),
            crate::view_model::window::number(r.center)
        );
        text_at(rect.left_top() + Vec2::splat(6.0), Align2::LEFT_TOP, &short);
    }
    if let Some(spacing) = view.column_spacing() {
        let visible_mm =
            crate::convert::to_f64(facts.columns) * spacing * f64::from(uv.width().max(1e-6));
        let mm_per_point = visible_mm / f64::from(rect.width().max(1.0));
        if let Some((mm, points)) = scale_bar(mm_per_point, rect.width() / 4.0) {
            let y = rect.bottom() - 10.0;
            let x0 = rect.left() + 10.0;
            let bar = [egui::pos2(x0, y), egui::pos2(x0 + points, y)];
            painter.line_segment(bar, Stroke::new(5.0, Color32::BLACK));
            painter.line_segment(bar, Stroke::new(3.0, Color32::YELLOW));
            let label = format!("{} mm", crate::view_model::window::number(mm));
            text_at(egui::pos2(x0, y - 6.0), Align2::LEFT_BOTTOM, &label);
            ui.label(format!("scale bar: {label}"));
        }
    } else {
        ui.label("no pixel spacing in the file: no scale bar");
    }
    if resp.dragged() {
        let d = resp.drag_delta();
        app.drag_window([d.x, d.y]);
    }
    if resp.drag_stopped() {
        app.end_window_drag();
    }
    if let Some(pos) = resp.hover_pos() {
        let fx = uv.min.x + (pos.x - rect.left()) / rect.width() * uv.width();
        let fy = uv.min.y + (pos.y - rect.top()) / rect.height() * uv.height();
        if let Some((x, y, v)) = view.value_at(fx, fy) {
            resp.clone().on_hover_text(format!("x {x}, y {y}: modality value {v}"));
        }
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            app.state.zoom.zoom_at(scroll, [fx, fy]);
        }
    }
}

/// Draws "what the model saw" for the current image when it is turned on.
pub fn model_input(app: &mut App, ui: &mut egui::Ui) {
    if !app.state.reading.model_input {
        return;
    }
    let pending = app.state.current.is_some_and(|i| app.reloading(i));
    let Some(v) = app.views.model_input(&app.state, pending) else { return };
    ui.strong("What the model saw");
    let ctx = ui.ctx().clone();
    let id = app.textures.show(&ctx, "model saw", v.image_id, &v.image, TextureOptions::NEAREST);
    let side = 224.0_f32.min(ui.available_width());
    let resp = ui.add(
        egui::Image::new((id, Vec2::splat(side)))
            .alt_text("what the model saw")
            .sense(egui::Sense::hover()),
    );
    if let Some(pos) = resp.hover_pos() {
        let fx = (pos.x - resp.rect.left()) / resp.rect.width();
        let fy = (pos.y - resp.rect.top()) / resp.rect.height();
        if let Some((x, y)) = crate::view_model::planes::pixel_at(fx, fy, v.width, v.height)
            && let Some(value) = v.values.get(y * v.width + x)
        {
            resp.clone().on_hover_text(format!("x {x}, y {y}: {value:.5}"));
        }
    }
    for line in &v.lines {
        ui.label(line);
    }
}

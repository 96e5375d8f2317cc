//! The central view: the image, the heatmap's R, G, B channels as signed panels with one shared
//! colour bar, the channel sum, the change map, an overlay and the model's input, plus the
//! method comparison grid. Hover shows raw values; scroll zooms and drag pans all panels. The
//! panels come ready-made from the view model (`crate::view_model::explorer`).

use egui::{Color32, TextureOptions, Vec2};

use crate::app::App;
use crate::app::state::ScaleMode;
use crate::ax::HeatmapSource;
use crate::colormap;
use crate::view_model::ExplorerView;
use crate::view_model::explorer::Panel;

/// Draws the view.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[2]);
    ui.horizontal(|ui| {
        let st = &mut app.state;
        egui::ComboBox::from_label("scale").selected_text(st.scale.label()).show_ui(ui, |ui| {
            for m in ScaleMode::ALL {
                ui.selectable_value(&mut st.scale, m, m.label());
            }
        });
        ui.add(egui::Slider::new(&mut st.opacity, 0.0..=1.0).text("overlay opacity"));
        if ui.button("reset zoom").clicked() {
            st.zoom = Default::default();
        }
    });
    let (view, again) = app.explorer_view();
    if let Some(after) = again {
        ui.ctx().request_repaint_after(after);
    }
    let Some(view) = view else {
        ui.label("open an image (File > Open image... or drop a file on the window)");
        return;
    };
    if !view.has_heatmap {
        ui.label("run GAX or a method to see a heatmap");
        if let Some(image) = view.panels.first() {
            let id = texture(app, ui.ctx(), &view, image);
            ui.add(egui::Image::new((id, Vec2::splat(320.0))).alt_text("image"));
        }
        return;
    }
    ui.horizontal(|ui| {
        ui.label(&view.caption);
        ui.separator();
        ui.label(format!("abs max {:.4}", view.abs_max));
        ui.separator();
        colour_bar(ui, view.scale);
    });
    egui::ScrollArea::both().show(ui, |ui| {
        let side = ((ui.available_width() - 40.0) / 4.0).clamp(96.0, 320.0);
        egui::Grid::new("panels").spacing([8.0, 8.0]).show(ui, |ui| {
            for i in 0..view.panels.len() {
                panel(app, ui, &view, i, side);
                if i % 4 == 3 {
                    ui.end_row();
                }
            }
        });
        comparison(app, ui);
    });
}

fn texture(app: &mut App, ctx: &egui::Context, view: &ExplorerView, p: &Panel) -> egui::TextureId {
    let options = if p.smooth { TextureOptions::LINEAR } else { TextureOptions::NEAREST };
    app.textures.show(ctx, p.name, view.revision, &p.image, options)
}

fn panel(app: &mut App, ui: &mut egui::Ui, view: &ExplorerView, index: usize, side: f32) {
    let Some(p) = view.panels.get(index) else { return };
    let id = texture(app, ui.ctx(), view, p);
    let (uv0, uv1) = app.state.zoom.uv();
    ui.vertical(|ui| {
        ui.label(&p.title);
        let resp = ui.add(
            egui::Image::new((id, Vec2::splat(side)))
                .uv(egui::Rect::from_min_max(uv0.into(), uv1.into()))
                .alt_text(p.title.clone())
                .sense(egui::Sense::click_and_drag()),
        );
        if let Some(pos) = resp.hover_pos() {
            let fx = uv0[0] + (pos.x - resp.rect.left()) / resp.rect.width() * (uv1[0] - uv0[0]);
            let fy = uv0[1] + (pos.y - resp.rect.top()) / resp.rect.height() * (uv1[1] - uv0[1]);
            if let Some((x, y, v)) = view.value_at(index, fx, fy) {
                resp.clone().on_hover_text(format!("x {x}, y {y}: {v:.5}"));
            }
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                app.state.zoom.zoom_at(scroll, [fx, fy]);
            }
        }
        let name = p.name;
        resp.context_menu(|ui| {
            if ui.button("Save panel as PNG...").clicked() {
                if let Some(path) = rfd::FileDialog::new()
                    .set_file_name(format!("{name}.png"))
                    .add_filter("png", &["png"])
                    .save_file()
                {
                    app.export_panel_png(name, &path);
                }
                ui.close();
            }
        });
        if resp.dragged() {
            let d = resp.drag_delta();
            app.state.zoom.pan([d.x / side, d.y / side]);
        }
    });
}

fn colour_bar(ui: &mut egui::Ui, scale: f32) {
    ui.label(format!("{:.3}", -scale));
    let (rect, _) = ui.allocate_exact_size(Vec2::new(160.0, 14.0), egui::Sense::hover());
    let painter = ui.painter();
    let steps = 64_u8;
    for i in 0..steps {
        let t0 = f32::from(i) / f32::from(steps);
        let t1 = f32::from(i + 1) / f32::from(steps);
        let r = egui::Rect::from_min_max(
            egui::pos2(rect.left() + t0 * rect.width(), rect.top()),
            egui::pos2(rect.left() + t1 * rect.width(), rect.bottom()),
        );
        painter.rect_filled(r, 0.0, colormap::diverging(2.0 * t0 - 1.0));
    }
    painter.rect_stroke(rect, 0.0, egui::Stroke::new(1.0, Color32::GRAY), egui::StrokeKind::Inside);
    ui.label(format!("{scale:.3}"));
}

fn comparison(app: &mut App, ui: &mut egui::Ui) {
    let tiles = app.views.comparison(&app.state);
    if tiles.is_empty() {
        return;
    }
    let gax_co = app.state.current_run().and_then(|r| r.steps.last()).map(|s| s.co);
    ui.separator();
    ui.strong("Method comparison (channel sum, each map on its own scale ±max |sum|)");
    let ctx = ui.ctx().clone();
    let mut pick = None;
    ui.horizontal_wrapped(|ui| {
        for t in tiles.iter() {
            let name = format!("cmp {}", t.method);
            let id = app.textures.show(&ctx, &name, t.id, &t.image, TextureOptions::NEAREST);
            ui.vertical(|ui| {
                ui.label(t.method.name());
                let image = egui::Image::new((id, Vec2::splat(128.0)))
                    .alt_text(t.method.name())
                    .sense(egui::Sense::click());
                if ui.add(image).clicked() {
                    pick = Some(t.method);
                }
                if t.scale > 0.0 {
                    ui.label(format!("scale ±{:.3e}", t.scale));
                } else {
                    ui.label("all zero");
                }
                ui.label(format!("CO sum {:.3}", t.co_sum));
                ui.label(format!("CO mult {:.3}", t.co_mult));
            });
        }
        if let Some(co) = gax_co {
            ui.vertical(|ui| {
                ui.label("GAX");
                if ui.button("show GAX").clicked() {
                    app.state.view = HeatmapSource::Gax;
                }
                ui.label(format!("CO {co:.3}"));
            });
        }
    });
    if let Some(m) = pick {
        app.state.view = HeatmapSource::Method(m);
    }
}

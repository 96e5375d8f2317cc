//! The central view: the image, the heatmap's R, G, B channels (one heatmap for a 1-channel
//! model) as signed panels with one shared colour bar, the channel sum, the change map, an overlay and the model's input, as a grid of
//! the panels the user chose or in focus mode (one large panel and a strip of small ones).
//! Hover shows raw values; scroll zooms and drag pans all panels. The panels come ready-made
//! from the view model (`crate::view_model::explorer`), their sizes from
//! `crate::view_model::layout`.

use egui::{Color32, TextureOptions, Vec2};

use crate::app::App;
use crate::app::state::{ScaleMode, ViewLayout};
use crate::colormap;
use crate::view_model::ExplorerView;
use crate::view_model::explorer::Panel;
use crate::view_model::layout;

/// Draws the view.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[2]);
    let (view, again) = app.explorer_view();
    let channels = view.as_ref().map_or(3, |v| v.channels);
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
        ui.separator();
        for l in ViewLayout::ALL {
            ui.selectable_value(&mut st.panels.layout, l, l.label());
        }
        panels_menu(app, ui, channels);
    });
    if let Some(after) = again {
        ui.ctx().request_repaint_after(after);
    }
    let Some(view) = view else {
        ui.label("open an image (File > Open image... or drop a file on the window)");
        return;
    };
    // A DICOM image is read at full resolution under its window, beside what the model saw.
    let dicom = app.current_dicom().is_some();
    if dicom {
        // Side by side when the view is wide enough, else one above the other.
        if ui.available_width() >= 700.0 {
            ui.horizontal_top(|ui| {
                ui.vertical(|ui| super::reading::show(app, ui, Some(&*view)));
                ui.vertical(|ui| super::reading::model_input(app, ui));
            });
        } else {
            super::reading::show(app, ui, Some(&*view));
            super::reading::model_input(app, ui);
        }
    }
    if !view.has_heatmap {
        ui.label("run GAX or a method to see a heatmap");
        if !dicom && let Some(image) = view.panels.first() {
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
    match app.state.panels.layout {
        ViewLayout::Grid => grid(app, ui, &view),
        ViewLayout::Focus => focus(app, ui, &view),
    }
}

/// The panels the user chose, four (or as many as fit) to a row, sized so a row fits the view.
fn grid(app: &mut App, ui: &mut egui::Ui, view: &ExplorerView) {
    let shown: Vec<usize> = (0..view.panels.len())
        .filter(|&i| !app.state.panels.hidden.contains(view.panels[i].name))
        .collect();
    let size = ui.available_size();
    let columns = layout::grid_columns(size.x, shown.len());
    let side = layout::grid_side(size.x, size.y, columns);
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new("panels").spacing([layout::GAP, layout::GAP]).show(ui, |ui| {
            for (k, &i) in shown.iter().enumerate() {
                panel(app, ui, view, i, side);
                if k % columns == columns - 1 {
                    ui.end_row();
                }
            }
        });
    });
}

/// One large panel (the overlay unless the user picked another) and a strip of the others,
/// each a button that brings it to the front.
fn focus(app: &mut App, ui: &mut egui::Ui, view: &ExplorerView) {
    let large = view.panels.iter().position(|p| p.name == app.state.panels.focus).unwrap_or(0);
    let size = ui.available_size();
    let (side, strip) = layout::focus_sides(size.x, size.y, view.panels.len().saturating_sub(1));
    let mut pick = None;
    ui.horizontal_top(|ui| {
        panel(app, ui, view, large, side);
        egui::ScrollArea::vertical().id_salt("focus strip").show(ui, |ui| {
            for (_, p) in view.panels.iter().enumerate().filter(|(i, _)| *i != large) {
                let id = texture(app, ui.ctx(), view, p);
                let button = egui::Button::image(egui::Image::new((id, Vec2::splat(strip))));
                let r = ui.add(button).on_hover_text(&p.title);
                r.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("focus {}", p.name))
                });
                if r.clicked() {
                    pick = Some(p.name);
                }
                ui.small(p.name);
            }
        });
    });
    if let Some(name) = pick {
        app.state.panels.focus = name.to_owned();
    }
}

/// A menu of the grid's panels (those of a `channels`-channel heatmap), each with a checkbox
/// that shows or hides it.
fn panels_menu(app: &mut App, ui: &mut egui::Ui, channels: usize) {
    ui.menu_button("panels", |ui| {
        for &name in crate::view_model::explorer::panel_names(channels) {
            let hidden = &mut app.state.panels.hidden;
            let mut on = !hidden.contains(name);
            if ui.checkbox(&mut on, name).changed() {
                if on {
                    hidden.remove(name);
                } else {
                    hidden.insert(name.to_owned());
                }
            }
        }
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
        ui.set_max_width(side);
        ui.add(egui::Label::new(&p.title).wrap());
        let resp = ui.add(
            egui::Image::new((id, Vec2::splat(side)))
                .uv(egui::Rect::from_min_max(uv0.into(), uv1.into()))
                .alt_text(p.name)
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

//! The controls' "Window" section for a grayscale DICOM image: its non-identifying facts, the
//! file's window presets (with their explanations), auto, percentile, a numeric center and
//! width, display inversion, the frame picker and the "show header" list.

use hx_formats::Window;

use crate::app::App;

/// Draws the section when the current image is a grayscale DICOM file. Its widgets keep their
/// ids when the sections above change size (a prediction cleared while a new input is made).
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    if app.current_dicom().is_some() {
        ui.push_id("window_section", |ui| section(app, ui));
    }
}

fn section(app: &mut App, ui: &mut egui::Ui) {
    let Some(d) = app.current_dicom().cloned() else { return };
    egui::Grid::new("dicom_facts").num_columns(2).show(ui, |ui| {
        for (k, v) in d.source.fact_rows() {
            ui.label(k);
            ui.label(v);
            ui.end_row();
        }
    });
    let resolved = d.resolved();
    match &resolved {
        Ok(r) => ui.label(format!("window {}", r.readout())),
        Err(e) => ui.colored_label(ui.visuals().error_fg_color, format!("window: {e}")),
    };
    let shown = d.shown;
    let mut pick = None;
    for (i, p) in d.source.presets.iter().enumerate() {
        let on = shown == Window::FileN(i) || (i == 0 && shown == Window::File);
        if ui.selectable_label(on, format!("preset {}: {}", i + 1, p.label())).clicked() {
            pick = Some(Window::FileN(i));
        }
    }
    if ui.selectable_label(shown == Window::Auto, "auto (min–max)").clicked() {
        pick = Some(Window::Auto);
    }
    ui.horizontal(|ui| {
        let p = &mut app.state.reading.percentile;
        let on = matches!(shown, Window::Percentile(_));
        let clicked = ui.selectable_label(on, "percentile").clicked();
        let drag = ui.add(egui::DragValue::new(p).range(0.0..=49.9).speed(0.1).prefix("P "));
        let window = Window::Percentile(*p);
        if on && drag.changed() {
            app.preview_window(window);
        }
        if clicked || (on && (drag.drag_stopped() || drag.lost_focus())) {
            pick = Some(window);
        }
    });
    if let Ok(r) = &resolved {
        let (mut center, mut width) = (r.center, r.width);
        ui.horizontal(|ui| {
            let step = crate::view_model::window::drag_step(&d.source);
            let c = ui.add(egui::DragValue::new(&mut center).speed(step).prefix("center "));
            let w = ui.add(
                egui::DragValue::new(&mut width).speed(step).range(1.0..=f64::MAX).prefix("width "),
            );
            let custom = Window::Custom { center, width };
            if c.changed() || w.changed() {
                app.preview_window(custom);
            }
            let done = |r: &egui::Response| r.drag_stopped() || r.lost_focus();
            if done(&c) || done(&w) {
                pick = Some(custom);
            }
        });
    }
    ui.checkbox(&mut app.state.reading.invert, "invert display (the model input stays as is)");
    if d.source.facts.frames > 1 {
        let mut frame = d.frame;
        let last = d.source.facts.frames - 1;
        let r = ui.add(egui::Slider::new(&mut frame, 0..=last).text("frame"));
        if r.changed() {
            app.set_frame(frame);
        }
    }
    if let Some(w) = pick {
        app.set_window(w);
    }
    ui.label("drag on the image: left/right = width, up/down = level");
    header(app, ui, &d.source.header);
}

fn header(app: &mut App, ui: &mut egui::Ui, entries: &[hx_formats::dicom::HeaderEntry]) {
    ui.checkbox(&mut app.state.reading.show_header, "show header (identifiers included)");
    if !app.state.reading.show_header {
        return;
    }
    ui.label("shown here only: no export writes patient name, ID or birth date");
    // Scrolls both ways: long values must not widen the controls panel.
    let width = ui.available_width();
    egui::ScrollArea::both().id_salt("dicom_header").max_height(260.0).max_width(width).show(
        ui,
        |ui| {
            egui::Grid::new("dicom_header_grid").num_columns(3).striped(true).show(ui, |ui| {
                for e in entries {
                    let indent = "  ".repeat(e.depth);
                    ui.label(format!("{indent}({:04X},{:04X})", e.tag.0, e.tag.1));
                    ui.label(format!("{} {}", e.name, e.vr));
                    ui.label(&e.value);
                    ui.end_row();
                }
            });
        },
    );
}

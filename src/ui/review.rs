//! The review tab: a folder of studies as a queue (ordered by a class's score, by confidence or
//! by a method's CO score; by path in blinded mode), the case on show with its image, the
//! model's view (hidden until revealed in blinded mode), flag, note and reviewed, and keyboard
//! navigation: J/↓ next, K/↑ previous, F flag, R reviewed, V reveal. In the queue `[F]`
//! marks a flagged case and `[R]` a reviewed one.

use crate::app::App;
use crate::attribution::Method;
use crate::review::{CaseStatus, Order};

/// The width of the side column: the case's controls above the queue.
const SIDE: f32 = 330.0;

/// Draws the tab: the settings on two rows, then the side column (the case's controls, the
/// queue) and the image in the rest of the room.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Review");
        ui.label("folder");
        ui.add(egui::TextEdit::singleline(&mut app.state.review.dir).desired_width(360.0));
        if ui.button("Open folder").clicked() {
            let dir = std::path::PathBuf::from(app.state.review.dir.trim());
            app.open_review(dir);
        }
    });
    if let Some((_, folder)) = &app.state.review.opening {
        let text = format!("opening {} (its saved review and its studies)...", folder.display());
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(text);
            if ui.button("Cancel opening").clicked() {
                app.cancel_review_open();
            }
        });
        return;
    }
    if app.state.review.folder.is_none() {
        ui.label("open a folder of studies (DICOM files and images; subfolders included)");
        return;
    }
    settings(app, ui);
    keys(app, ui);
    ui.separator();
    ui.horizontal_top(|ui| {
        let shown = ui
            .vertical(|ui| {
                ui.set_width(SIDE);
                let shown = case(app, ui);
                ui.separator();
                queue(app, ui);
                shown
            })
            .inner;
        ui.separator();
        match shown {
            Some((path, visible)) => {
                ui.vertical(|ui| image(app, ui, &path, visible));
            }
            None => {
                ui.label("pick a case (or press J)");
            }
        }
    });
}

fn settings(app: &mut App, ui: &mut egui::Ui) {
    let r = &app.state.review;
    let n = r.cases.len();
    let reviewed = r.cases.iter().filter(|c| c.marks.status == CaseStatus::Reviewed).count();
    let flagged = r.cases.iter().filter(|c| c.marks.flag).count();
    ui.horizontal(|ui| {
        ui.label(format!("{n} case(s): {reviewed} reviewed, {flagged} flagged"));
        if app.state.review.job.is_some() {
            ui.spinner();
            ui.label(format!("scoring {}/{n}", app.state.review.scored));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut app.state.review.blinded, "blinded read");
        let classes = app.state.model.as_ref().map_or(0, |m| m.classes);
        let names: Vec<(Order, String)> = [(Order::File, "by path".to_owned())]
            .into_iter()
            .chain((0..classes.min(50)).map(|k| {
                (Order::Score(k), format!("score of {} (highest first)", app.state.class_name(k)))
            }))
            .chain([
                (Order::Confidence, "confidence (lowest first)".to_owned()),
                (Order::Co, "CO score (highest first)".to_owned()),
            ])
            .collect();
        let order = &mut app.state.review.order;
        let shown = names.iter().find(|(o, _)| *o == *order).map_or("", |(_, s)| s.as_str());
        ui.add_enabled_ui(!app.state.review.blinded, |ui| {
            egui::ComboBox::from_label("order").selected_text(shown).show_ui(ui, |ui| {
                for (o, s) in &names {
                    ui.selectable_value(order, *o, s);
                }
            });
        });
        let mut method = app.state.review.co_method;
        let text = method.map_or("none", Method::name);
        egui::ComboBox::from_label("CO method").selected_text(text).show_ui(ui, |ui| {
            ui.selectable_value(&mut method, None, "none");
            for m in Method::ALL {
                ui.selectable_value(&mut method, Some(m), m.name());
            }
        });
        if method != app.state.review.co_method {
            app.state.review.co_method = method;
            app.review_score();
        }
        let beside = app.state.review.folder.as_deref().map(crate::app::review::csv_beside);
        let hint = beside.map_or_else(String::new, |p| format!("writes {}", p.display()));
        if ui.button("Export review CSV").on_hover_text(hint).clicked() {
            app.export_review_csv_beside();
        }
        if ui.button("Export review CSV as...").clicked()
            && let Some(p) = rfd::FileDialog::new()
                .set_file_name("review.csv")
                .add_filter("csv", &["csv"])
                .save_file()
        {
            app.export_review_csv(&p);
        }
    });
}

fn keys(app: &mut App, ui: &mut egui::Ui) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let pressed = |k: egui::Key| ui.input(|i| i.key_pressed(k));
    if pressed(egui::Key::J) || pressed(egui::Key::ArrowDown) {
        app.review_step(1);
    }
    if pressed(egui::Key::K) || pressed(egui::Key::ArrowUp) {
        app.review_step(-1);
    }
    if pressed(egui::Key::F) {
        app.review_toggle_flag();
    }
    if pressed(egui::Key::R) {
        app.review_toggle_reviewed();
    }
    if pressed(egui::Key::V) {
        app.review_reveal();
    }
}

fn queue(app: &mut App, ui: &mut egui::Ui) {
    let r = &app.state.review;
    let mut pick = None;
    let height = ui.available_height().max(120.0);
    egui::ScrollArea::vertical().id_salt("review_queue").max_height(height).show(ui, |ui| {
        for i in r.queue() {
            let c = &r.cases[i];
            let mut text = format!(
                "{} {} {}",
                if c.marks.flag { "[F]" } else { "[ ]" },
                if c.marks.status == CaseStatus::Reviewed { "[R]" } else { "[ ]" },
                c.rel
            );
            if r.visible(i)
                && let Some(Ok(s)) = &c.scores
                && let Some(b) = s.best()
            {
                text.push_str(&format!("  {} {:.3}", app.state.class_name(b.class), b.prob));
            }
            if ui.selectable_label(r.current == Some(i), text).clicked() {
                pick = Some(i);
            }
        }
    });
    if let Some(i) = pick {
        app.commit_note();
        app.review_show(i);
    }
}

/// The case on show: its name, the reading buttons, status, note and the model's view (hidden
/// until revealed in blinded mode). Returns its path and whether the model's view may be shown.
fn case(app: &mut App, ui: &mut egui::Ui) -> Option<(std::path::PathBuf, bool)> {
    let i = app.state.review.current?;
    let c = app.state.review.cases.get(i)?.clone();
    ui.strong(&c.rel);
    ui.horizontal_wrapped(|ui| {
        if ui.button("Previous (K)").clicked() {
            app.review_step(-1);
        }
        if ui.button("Next (J)").clicked() {
            app.review_step(1);
        }
        let flag = if c.marks.flag { "Unflag (F)" } else { "Flag (F)" };
        if ui.button(flag).clicked() {
            app.review_toggle_flag();
        }
        let done = if c.marks.status == CaseStatus::Reviewed {
            "Mark unread (R)"
        } else {
            "Mark reviewed (R)"
        };
        if ui.button(done).clicked() {
            app.review_toggle_reviewed();
        }
        if ui.button("Open in Explorer").clicked() {
            app.state.tab = crate::app::state::Tab::Explorer;
        }
    });
    ui.label(format!(
        "status: {}{}",
        c.marks.status.name(),
        c.marks.reviewed_at.as_ref().map_or_else(String::new, |t| format!(" at {t}"))
    ));
    let note = ui.add(
        egui::TextEdit::multiline(&mut app.state.review.note)
            .hint_text("note")
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    );
    if note.lost_focus() {
        app.commit_note();
    }
    let visible = app.state.review.visible(i);
    if !visible {
        ui.horizontal_wrapped(|ui| {
            ui.label("prediction and heatmaps hidden (blinded read)");
            if ui.button("Reveal (V)").clicked() {
                app.review_reveal();
            }
        });
    } else {
        match &c.scores {
            Some(Ok(s)) => {
                if let Some(b) = s.best() {
                    ui.label(format!(
                        "predicted {} (probability {:.3})",
                        app.state.class_name(b.class),
                        b.prob
                    ));
                }
                if let Some(co) = s.co {
                    ui.label(format!("CO score {co:.3}"));
                }
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {
                ui.label("scoring...");
            }
        }
    }
    Some((c.path, visible))
}

/// The case's image in all the room left: a DICOM file in the reading view (window drag, scale
/// bar), another image as the explorer's image panel (with the heatmap when visible).
fn image(app: &mut App, ui: &mut egui::Ui, path: &std::path::Path, visible: bool) {
    if app.state.current_entry().is_none_or(|e| e.path != path) {
        ui.label("opening...");
        return;
    }
    let (view, _) = app.explorer_view();
    let Some(view) = view else { return };
    if app.current_dicom().is_some() {
        super::reading::show_filling(app, ui, visible.then_some(&*view));
        return;
    }
    let name = if visible && view.has_heatmap { "overlay" } else { "image" };
    if let Some(p) = view.panel(name) {
        let options = egui::TextureOptions::LINEAR;
        let id = app.textures.show(
            ui.ctx(),
            &format!("review {name}"),
            view.revision,
            &p.image,
            options,
        );
        let side = ui.available_width().min(ui.available_height()).max(160.0);
        ui.add(egui::Image::new((id, egui::Vec2::splat(side))).alt_text("case image"));
    }
}

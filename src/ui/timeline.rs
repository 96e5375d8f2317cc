//! The bottom panel: step slider with playback, and the CO curve with the target line and the
//! selected step (click the curve to select a step).

use egui_plot::{Corner, HLine, Legend, Line, Plot, PlotPoints, VLine};

use crate::app::App;

/// Draws the timeline.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[3]);
    let (Some(run), Some(curves)) = (app.state.current_run(), app.views.curves(&app.state)) else {
        ui.label("no GAX run on this image yet: press Run GAX");
        return;
    };
    let last = run.steps.len().saturating_sub(1);
    let target = run.config.target_co;
    let selected_co = run.steps.get(app.state.timeline.selected.min(last)).map_or(0.0, |s| s.co);

    let t = &mut app.state.timeline;
    t.selected = t.selected.min(last);
    ui.horizontal(|ui| {
        if ui.button("|<").on_hover_text("first step").clicked() {
            t.selected = 0;
            t.follow = false;
        }
        let play = if t.playing { "pause" } else { "play" };
        if ui.button(play).on_hover_text("play / pause").clicked() {
            t.playing = !t.playing;
            if t.playing && t.selected >= last {
                t.selected = 0;
            }
        }
        if ui.button(">|").on_hover_text("last step").clicked() {
            t.selected = last;
            t.follow = true;
        }
        let r = ui.add(
            egui::Slider::new(&mut t.selected, 0..=last.max(1))
                .text("step")
                .clamping(egui::SliderClamping::Always),
        );
        if r.changed() {
            t.selected = t.selected.min(last);
            t.follow = t.selected == last;
        }
        ui.add(egui::Slider::new(&mut t.speed, 1.0..=200.0).logarithmic(true).text("steps/s"));
        ui.checkbox(&mut t.follow, "follow newest");
        ui.label(format!("CO at step {}: {selected_co:.3}", t.selected));
    });
    ui.checkbox(&mut app.state.show_loss, "show loss and similarity");
    if !ui.ctx().egui_wants_keyboard_input() {
        let (left, right) = ui
            .input(|i| (i.key_pressed(egui::Key::ArrowLeft), i.key_pressed(egui::Key::ArrowRight)));
        let t = &mut app.state.timeline;
        if left && t.selected > 0 {
            t.selected -= 1;
            t.follow = false;
        }
        if right && t.selected < last {
            t.selected += 1;
            t.follow = t.selected == last;
        }
    }
    let selected = app.state.timeline.selected;
    let show_loss = app.state.show_loss;
    // At least 160 px for the curve; the target line inside the bounds with some headroom; the
    // legend in the corner away from the newest steps.
    let mut plot = Plot::new("co_curve")
        .legend(Legend::default().position(Corner::LeftTop))
        .allow_scroll(false)
        .height(ui.available_height().max(160.0))
        .include_y(0.0);
    if target.is_finite() {
        plot = plot.include_y(target + 0.1 * target.abs().max(1.0));
    }
    let resp = plot.show(ui, |p| {
        p.line(Line::new("CO", PlotPoints::from(curves.co.clone())));
        if show_loss {
            p.line(Line::new("loss", PlotPoints::from(curves.loss.clone())));
            p.line(Line::new("similarity", PlotPoints::from(curves.similarity.clone())));
        }
        if target.is_finite() {
            p.hline(HLine::new("target CO", target));
        }
        p.vline(VLine::new("selected step", crate::convert::to_f64(selected)));
        p.pointer_coordinate()
    });
    if resp.response.clicked()
        && let Some(pt) = resp.inner
    {
        app.state.timeline.selected = curves.step_at(pt.x);
        app.state.timeline.follow = false;
    }
}

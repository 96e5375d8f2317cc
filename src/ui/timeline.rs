//! The bottom panel: step slider with playback, the CO curve with its target line and the
//! selected step (click the curve to select a step, hover it for the step's values), and loss
//! and similarity on a plot of their own. Bounds and ticks come from the view model
//! (`crate::view_model::timeline`); the legend sits above the plots, outside the data.

use std::rc::Rc;

use egui::{Color32, Role, Sense, WidgetInfo};
use egui_plot::{GridMark, HLine, HoverPosition, Line, LineStyle, Plot, PlotPoints, VLine};

use crate::app::App;
use crate::view_model::{Axis, Curves};

/// The CO curve's colour.
const CO: Color32 = Color32::from_rgb(40, 110, 220);
/// The target line's colour.
const TARGET: Color32 = Color32::from_rgb(230, 120, 20);
/// The selected step's colour.
const SELECTED: Color32 = Color32::from_gray(128);
/// The loss curve's colour.
const LOSS: Color32 = Color32::from_rgb(200, 40, 60);
/// The similarity curve's colour.
const SIMILARITY: Color32 = Color32::from_rgb(40, 160, 80);

/// The CO plot is never lower than this, in points.
pub const MIN_PLOT_HEIGHT: f32 = 160.0;

/// Draws the timeline.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[3]);
    let (Some(run), Some(curves)) = (app.state.current_run(), app.views.curves(&app.state)) else {
        ui.label("no GAX run on this image yet: press Run GAX");
        // Fill the panel, so it keeps its size (the saved one, or the user's) without a run.
        ui.allocate_space(egui::vec2(0.0, ui.available_height()));
        return;
    };
    let last = run.steps.len().saturating_sub(1);
    let target = run.config.target_co;
    let selected_co = run.steps.get(app.state.timeline.selected.min(last)).map_or(0.0, |s| s.co);
    step_controls(app, ui, last, selected_co);
    ui.horizontal(|ui| {
        ui.checkbox(&mut app.state.show_loss, "show loss and similarity");
        ui.separator();
        legend(ui, target, app.state.show_loss);
    });
    step_keys(app, ui, last);
    let selected = crate::convert::to_f64(app.state.timeline.selected);
    let height = ui.available_height().max(MIN_PLOT_HEIGHT);
    let width = ui.available_width();
    let show_loss = app.state.show_loss;
    let clicked = ui
        .horizontal(|ui| {
            let co_width = if show_loss { width * 0.62 } else { width };
            let clicked = co_plot(ui, &curves, target, selected, [co_width, height]);
            if show_loss {
                let rest = ui.available_width();
                loss_plot(ui, &curves, selected, [rest, height]);
            }
            clicked
        })
        .inner;
    if let Some(step) = clicked {
        app.state.timeline.selected = step;
        app.state.timeline.follow = false;
    }
}

/// The first/play/last buttons, the step slider, the speed and the selected step's CO.
fn step_controls(app: &mut App, ui: &mut egui::Ui, last: usize, selected_co: f32) {
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
}

/// ← and → step through the run when no text field has the keyboard.
fn step_keys(app: &mut App, ui: &egui::Ui, last: usize) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let (left, right) =
        ui.input(|i| (i.key_pressed(egui::Key::ArrowLeft), i.key_pressed(egui::Key::ArrowRight)));
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

/// The legend, outside the plots: one swatch and name per line drawn.
fn legend(ui: &mut egui::Ui, target: f64, show_loss: bool) {
    let mut entries = vec![(CO, "CO".to_owned())];
    if target.is_finite() {
        entries.push((TARGET, format!("target CO {target}")));
    }
    entries.push((SELECTED, "selected step".to_owned()));
    if show_loss {
        entries.push((LOSS, "loss".to_owned()));
        entries.push((SIMILARITY, "similarity".to_owned()));
    }
    for (colour, name) in entries {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(18.0, 10.0), Sense::hover());
        ui.painter().hline(rect.x_range(), rect.center().y, egui::Stroke::new(2.5, colour));
        ui.label(name);
    }
}

/// A plot with fixed bounds (no zoom or drag: the axis is the view model's) whose y ticks are
/// `axis`'s, and whose hover label is the step's read-out.
fn plot<'a>(id: &str, curves: &Rc<Curves>, axis: &Axis, size: [f32; 2]) -> Plot<'a> {
    let (labels, hover, x_labels) = (axis.clone(), Rc::clone(curves), curves.x_axis());
    Plot::new(id)
        .width(size[0])
        .height(size[1])
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .y_grid_spacer(marks(axis.clone()))
        .y_axis_formatter(move |mark, _| labels.label(mark.value))
        .x_grid_spacer(marks(curves.x_axis()))
        .x_axis_formatter(move |mark, _| x_labels.label(mark.value))
        .label_formatter(move |pos| {
            let x = match pos {
                HoverPosition::NearDataPoint { position, .. }
                | HoverPosition::Elsewhere { position } => position.x,
            };
            Some(hover.readout(hover.step_at(x)))
        })
}

/// Grid marks on `axis`'s ticks.
fn marks(axis: Axis) -> impl Fn(egui_plot::GridInput) -> Vec<GridMark> {
    move |_| axis.ticks.iter().map(|&value| GridMark { value, step_size: axis.step }).collect()
}

/// The CO curve; returns the step a click chose.
fn co_plot(
    ui: &mut egui::Ui,
    curves: &Rc<Curves>,
    target: f64,
    selected: f64,
    size: [f32; 2],
) -> Option<usize> {
    let axis = curves.co_axis(target);
    let (x_max, y) = (curves.x_max(), (axis.min, axis.max));
    let resp = plot("co_curve", curves, &axis, size).show(ui, |p| {
        p.set_plot_bounds_x(0.0..=x_max);
        p.set_plot_bounds_y(y.0..=y.1);
        p.line(Line::new("CO", PlotPoints::from(curves.co.clone())).color(CO).width(2.0));
        if target.is_finite() {
            let line = HLine::new("target CO", target).color(TARGET);
            p.hline(line.style(LineStyle::dashed_loose()));
        }
        p.vline(VLine::new("selected step", selected).color(SELECTED));
        p.pointer_coordinate()
    });
    tick_nodes(ui, &resp.transform, &axis, "CO axis");
    resp.response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "CO curve"));
    resp.response.clicked().then_some(resp.inner).flatten().map(|pt| curves.step_at(pt.x))
}

/// Loss and similarity on their own axis.
fn loss_plot(ui: &mut egui::Ui, curves: &Rc<Curves>, selected: f64, size: [f32; 2]) {
    let axis = curves.loss_axis();
    let (x_max, y) = (curves.x_max(), (axis.min, axis.max));
    let resp = plot("loss_curve", curves, &axis, size).show(ui, |p| {
        p.set_plot_bounds_x(0.0..=x_max);
        p.set_plot_bounds_y(y.0..=y.1);
        p.line(Line::new("loss", PlotPoints::from(curves.loss.clone())).color(LOSS));
        let similarity = PlotPoints::from(curves.similarity.clone());
        p.line(Line::new("similarity", similarity).color(SIMILARITY));
        p.vline(VLine::new("selected step", selected).color(SELECTED));
    });
    tick_nodes(ui, &resp.transform, &axis, "loss axis");
    resp.response.widget_info(|| WidgetInfo::labeled(Role::Image, true, "loss curve"));
}

/// One accessible node per y tick drawn, over its label left of the plot frame (inside `ui`), named
/// `{prefix} {label}`, so tests and screen readers see the axis as it is drawn.
fn tick_nodes(ui: &egui::Ui, transform: &egui_plot::PlotTransform, axis: &Axis, prefix: &str) {
    let frame = *transform.frame();
    for &v in &axis.ticks {
        let y = transform.position_from_point_y(v);
        if !(frame.top() - 0.5..=frame.bottom() + 0.5).contains(&y) {
            continue;
        }
        // The axis labels sit between the plot's outer edge and its frame.
        let left = ui.max_rect().left().max(frame.left() - 40.0).min(frame.left() - 1.0);
        let rect =
            egui::Rect::from_min_max(egui::pos2(left, y - 6.0), egui::pos2(frame.left(), y + 6.0));
        let name = format!("{prefix} {}", axis.label(v));
        let r = ui.interact(rect, egui::Id::unique((prefix, v.to_bits())), Sense::hover());
        r.widget_info(|| WidgetInfo::labeled(Role::Label, true, &name));
    }
}

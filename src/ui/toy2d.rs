//! The 2-D example tab (the paper's Section 2, Figures 1 and 6): parameters, the plot of x₁, x₂
//! (solid) and h₁, h₂ (dotted; the numerical ascent as points) against θ, and the CO scores at
//! the selected θ. The curves come from the state; this file only draws and edits parameters.

use std::f64::consts::{FRAC_PI_4, PI};

use egui::Color32;
use egui_plot::{GridInput, GridMark, Legend, Line, LineStyle, MarkerShape, Plot, Points, VLine};

use crate::app::App;
use crate::app::toy2d::Toy2dState;
use crate::toy2d::{self, Activation};

const RED: Color32 = Color32::from_rgb(215, 40, 40);
const BLUE: Color32 = Color32::from_rgb(40, 80, 215);
const DARK_RED: Color32 = Color32::from_rgb(130, 0, 0);
const DARK_BLUE: Color32 = Color32::from_rgb(0, 20, 120);

/// Draws the 2-D example tab.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading("2-D example");
    ui.label(
        "The paper's Section 2: W rotates by θ, x = W·a with a = (a₁, 1 − a₁), the classifier \
         f(x) = σ(W^-1 x) is perfect, and GAX grows the heatmap h = w·x (element-wise, w = 1 at \
         the start) by gradient ascent on Δ = A − B, the CO score of class 1 \
         (eq. 3–4: h = (1 + kη ∂Δ/∂w)·x).",
    );
    let changed = parameters(&mut app.state.toy2d, ui);
    if changed {
        ui.ctx().request_repaint();
    }
    let s = &mut app.state.toy2d;
    if let Some(e) = &s.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
        return;
    }
    let Some(curves) = s.curves.clone() else {
        // The logic step computes the curves before the next frame.
        ui.label("computing…");
        ui.ctx().request_repaint();
        return;
    };
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.overlay_numeric, "overlay numerical ascent");
        ui.label(format!(
            "max |h − h_numeric| = {:.1e} ({} steps of η = {:.4}, σ = {})",
            curves.max_abs_difference(),
            curves.params.steps,
            curves.params.k_eta / crate::convert::to_f64(curves.params.steps),
            curves.params.ascent.name(),
        ));
    });

    let series = |f: &dyn Fn(usize) -> f64| -> Vec<[f64; 2]> {
        curves.theta.iter().enumerate().map(|(i, &t)| [t, f(i)]).collect()
    };
    let overlay = s.overlay_numeric;
    // The read-out shows the sample nearest to the selected angle: mark that sample.
    let selected = s.readout().map_or(s.selected_theta, |r| r.theta);
    let (lo, hi) = (curves.params.theta_min, curves.params.theta_max);
    let height = (ui.available_height() - 190.0).max(220.0);
    let resp = Plot::new("toy2d_plot")
        .height(height)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_grid_spacer(quarter_pi_marks)
        .x_axis_formatter(|m, _| pi_label(m.value))
        .show(ui, |p| {
            for t in toy2d::homogeneous_angles(lo, hi) {
                p.vline(
                    VLine::new("(2k+1)π/4", t)
                        .color(Color32::GRAY)
                        .style(LineStyle::Dashed { length: 6.0 }),
                );
            }
            p.vline(VLine::new("selected θ", selected).color(Color32::DARK_GRAY).width(1.5));
            p.line(Line::new("x₁", series(&|i| curves.x[i][0])).color(RED).width(1.5));
            p.line(Line::new("x₂", series(&|i| curves.x[i][1])).color(BLUE).width(1.5));
            let dotted = LineStyle::Dotted { spacing: 5.0 };
            let h1 = Line::new("h₁ (closed form)", series(&|i| curves.h[i][0]));
            p.line(h1.color(RED).width(2.5).style(dotted));
            let h2 = Line::new("h₂ (closed form)", series(&|i| curves.h[i][1]));
            p.line(h2.color(BLUE).width(2.5).style(dotted));
            if overlay {
                for (c, name, color) in
                    [(0, "h₁ (numerical)", DARK_RED), (1, "h₂ (numerical)", DARK_BLUE)]
                {
                    let pts = Points::new(name, series(&|i| curves.h_numeric[i][c]));
                    p.points(pts.color(color).shape(MarkerShape::Circle).radius(1.8));
                }
            }
            p.pointer_coordinate()
        });
    if resp.response.clicked()
        && let Some(pt) = resp.inner
    {
        s.selected_theta = pt.x.clamp(lo, hi);
    }
    ui.add(egui::Slider::new(&mut s.selected_theta, lo..=hi).text("selected θ"));
    readout(s, ui);
}

/// The parameter rows; returns whether anything changed.
fn parameters(s: &mut Toy2dState, ui: &mut egui::Ui) -> bool {
    let p = &mut s.params;
    let mut changed = false;
    ui.horizontal(|ui| {
        changed |= ui.add(egui::Slider::new(&mut p.a1, 0.0..=1.0).text("a₁")).changed();
        ui.label(format!("a₂ = {:.3}", 1.0 - p.a1));
        for a1 in toy2d::A1_PRESETS {
            if ui.button(format!("a₁ = {a1}")).clicked() {
                p.a1 = a1;
                changed = true;
            }
        }
    });
    ui.horizontal(|ui| {
        let k_eta = egui::DragValue::new(&mut p.k_eta).speed(0.01).range(-10.0..=10.0);
        changed |= ui.add(k_eta.prefix("kη ")).changed();
        if ui.button("kη = 1.2 (caption)").clicked() {
            p.k_eta = toy2d::K_ETA_CAPTION;
            changed = true;
        }
        if ui
            .button("kη = 1.44 (plotting code: η twice)")
            .on_hover_text("the paper's plotting code adds η·(η ∂Δ/∂w) with η = 1.2")
            .clicked()
        {
            p.k_eta = toy2d::K_ETA_PLOTTED;
            changed = true;
        }
        let steps = egui::DragValue::new(&mut p.steps).range(1..=Toy2dState::MAX_STEPS);
        changed |= ui.add(steps.prefix("k = ").suffix(" steps")).changed();
        egui::ComboBox::from_label("ascent σ").selected_text(p.ascent.name()).show_ui(ui, |ui| {
            for a in Activation::ALL {
                changed |= ui.selectable_value(&mut p.ascent, a, a.name()).changed();
            }
        });
    });
    ui.horizontal(|ui| {
        let min = egui::DragValue::new(&mut p.theta_min).speed(0.01).range(-10.0..=10.0);
        changed |= ui.add(min.prefix("θ from ")).changed();
        let max = egui::DragValue::new(&mut p.theta_max).speed(0.01).range(-10.0..=10.0);
        changed |= ui.add(max.prefix("to ")).changed();
        let n = egui::DragValue::new(&mut p.samples).range(2..=Toy2dState::MAX_SAMPLES);
        changed |= ui.add(n.suffix(" samples")).changed();
        if ui.button("θ: −π…π, 128 samples").clicked() {
            (p.theta_min, p.theta_max, p.samples) = (-PI, PI, 128);
            changed = true;
        }
    });
    changed
}

/// x, both heatmaps and the CO scores at the selected θ.
fn readout(s: &Toy2dState, ui: &mut egui::Ui) {
    let Some(r) = s.readout() else { return };
    let pair = |v: [f64; 2]| format!("({:.4}, {:.4})", v[0], v[1]);
    ui.label(format!(
        "at θ = {:.4} (the nearest sample): x = {}, h closed form = {}, h numerical = {}",
        r.theta,
        pair(r.x),
        pair(r.h),
        pair(r.h_numeric)
    ));
    egui::Grid::new("toy2d_co").striped(true).show(ui, |ui| {
        ui.strong("CO score at θ (class 1, x + h)");
        ui.strong("closed-form h");
        ui.strong("numerical h");
        ui.end_row();
        for (sigma, closed, numeric) in &r.co {
            ui.label(format!("σ = {}", sigma.name()));
            ui.label(format!("{closed:.4}"));
            ui.label(format!("{numeric:.4}"));
            ui.end_row();
        }
    });
}

/// Grid marks at multiples of π/4, coarser (π/2, π, 2π, …) when zoomed out.
fn quarter_pi_marks(input: GridInput) -> Vec<GridMark> {
    let mut step = FRAC_PI_4;
    while step < input.base_step_size * 12.0 {
        step *= 2.0;
    }
    let (lo, hi) = input.bounds;
    let first = (lo / step).ceil();
    (0..)
        .map(|k| (first + f64::from(k)) * step)
        .take_while(|&v| v <= hi)
        .map(|value| {
            let major = ((value / (4.0 * step)).round() * 4.0 * step - value).abs() < 1e-9;
            GridMark { value, step_size: if major { 4.0 * step } else { step } }
        })
        .collect()
}

/// `v` as a multiple of π/4 ("−3π/4", "π/2", "0"), or a decimal when it is not one.
fn pi_label(v: f64) -> String {
    let quarters = (v / FRAC_PI_4).round();
    if (quarters * FRAC_PI_4 - v).abs() > 1e-9 || quarters.abs() > 1e6 {
        return format!("{v:.2}");
    }
    #[expect(clippy::cast_possible_truncation, reason = "a whole number of quarters below 1e6")]
    let q = quarters as i64;
    if q == 0 {
        return "0".to_owned();
    }
    let g = gcd(q.unsigned_abs(), 4);
    let (num, den) = (q / g.cast_signed(), 4 / g);
    let sign = if num < 0 { "−" } else { "" };
    let n = num.unsigned_abs();
    let top = if n == 1 { "π".to_owned() } else { format!("{n}π") };
    if den == 1 { format!("{sign}{top}") } else { format!("{sign}{top}/{den}") }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pi_labels() {
        let cases = [
            (0.0, "0"),
            (FRAC_PI_4, "π/4"),
            (-3.0 * FRAC_PI_4, "−3π/4"),
            (PI / 2.0, "π/2"),
            (-PI, "−π"),
            (2.0 * PI, "2π"),
            (1.0, "1.00"),
        ];
        for (v, want) in cases {
            assert_eq!(pi_label(v), want, "{v}");
        }
    }
}

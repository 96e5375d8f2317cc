//! The timeline's curves: CO, loss and similarity per GAX step, built once per new step rather
//! than every frame, the step under a click on the plot, the hover read-out, and the CO axis:
//! bounds that hold the curve and the target line, and the ticks drawn on it.

use crate::app::state::AppState;
use crate::convert::{cell_index, to_f64};
use crate::io::runfile::StepScalars;

/// Which run and how many of its steps the curves show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurveKey {
    image: usize,
    run_id: u64,
    steps: usize,
}

impl CurveKey {
    /// The key of the current image's run, or `None` without one.
    pub fn of(state: &AppState) -> Option<Self> {
        let image = state.current?;
        let e = state.images.get(image)?;
        Some(Self { image, run_id: e.run_id, steps: e.run.as_ref()?.steps.len() })
    }
}

/// The plotted series of one run, `[step, value]` points.
#[derive(Debug, Clone)]
pub struct Curves {
    /// What they show.
    pub key: CurveKey,
    /// CO per step.
    pub co: Vec<[f64; 2]>,
    /// Loss per step.
    pub loss: Vec<[f64; 2]>,
    /// The similarity term per step.
    pub similarity: Vec<[f64; 2]>,
}

impl Curves {
    /// The series of `steps`; non-finite values (a diverged run) are left out so the plot's
    /// bounds stay valid.
    pub fn of(key: CurveKey, steps: &[StepScalars]) -> Self {
        let series = |f: fn(&StepScalars) -> f32| -> Vec<[f64; 2]> {
            steps
                .iter()
                .enumerate()
                .map(|(i, s)| [to_f64(i), f64::from(f(s))])
                .filter(|p| p[1].is_finite())
                .collect()
        };
        Self {
            key,
            co: series(|s| s.co),
            loss: series(|s| s.loss),
            similarity: series(|s| s.similarity),
        }
    }

    /// The step nearest to `x` on the plot, within the run.
    pub fn step_at(&self, x: f64) -> usize {
        cell_index(x + 0.5, self.key.steps)
    }

    /// What hovering step `step` shows: the step and its CO, loss and similarity.
    pub fn readout(&self, step: usize) -> String {
        let at = |series: &[[f64; 2]]| {
            series
                .iter()
                .find(|p| p[0] == to_f64(step))
                .map_or_else(|| "n/a".to_owned(), |p| format!("{:.3}", p[1]))
        };
        format!(
            "step {step}: CO {}, loss {}, similarity {}",
            at(&self.co),
            at(&self.loss),
            at(&self.similarity)
        )
    }

    /// The CO plot's vertical axis: the curve, 0 and a finite `target` inside, with headroom.
    pub fn co_axis(&self, target: f64) -> Axis {
        let values = self.co.iter().map(|p| p[1]).chain([0.0]);
        let values = values.chain(target.is_finite().then_some(target));
        Axis::holding(values)
    }

    /// The loss and similarity plot's vertical axis.
    pub fn loss_axis(&self) -> Axis {
        Axis::holding(self.loss.iter().chain(&self.similarity).map(|p| p[1]))
    }

    /// The last step's x on the plot (at least 1, so the axis never collapses).
    pub fn x_max(&self) -> f64 {
        to_f64(self.key.steps.saturating_sub(1).max(1))
    }

    /// The step axis: 0 to the last step, ticks on whole steps (1, 2 or 5 × 10^k apart).
    pub fn x_axis(&self) -> Axis {
        let max = self.x_max();
        let step = nice_step(max / (Axis::TICKS + 3.0)).max(1.0);
        let ticks = std::iter::successors(Some(0.0), |k| Some(k + step))
            .take_while(|k| *k <= max + 1e-9)
            .collect();
        Axis { min: 0.0, max, step, ticks }
    }
}

/// A plot axis: its bounds and the values of its ticks, each drawn and labelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Distance between ticks.
    pub step: f64,
    /// Tick values from `min` to `max`.
    pub ticks: Vec<f64>,
}

impl Axis {
    /// About this many ticks on an axis.
    const TICKS: f64 = 5.0;

    /// An axis holding every finite value with 5 % headroom at both ends, its bounds on round
    /// ticks (1, 2 or 5 × 10^k apart), at least three of them.
    pub fn holding(values: impl Iterator<Item = f64>) -> Self {
        let (mut lo, mut hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo <= 1e-9 * hi.abs().max(1.0) {
            let half = 0.5 * hi.abs().max(1.0);
            (lo, hi) = (lo - half, hi + half);
        }
        let pad = 0.05 * (hi - lo);
        let (lo, hi) = (lo - pad, hi + pad);
        let step = nice_step((hi - lo) / (Self::TICKS - 1.0));
        let (first, last) = ((lo / step).floor(), (hi / step).ceil());
        let ticks: Vec<f64> = std::iter::successors(Some(first), |k| Some(k + 1.0))
            .take_while(|k| *k <= last)
            .map(|k| k * step)
            .collect();
        Self { min: first * step, max: last * step, step, ticks }
    }

    /// A tick's label, with as many decimals as the tick distance needs.
    pub fn label(&self, value: f64) -> String {
        let decimals = (-self.step.log10().floor()).clamp(0.0, 6.0);
        let digits = crate::convert::cell_index(decimals, 7);
        let v = if value == 0.0 { 0.0 } else { value };
        format!("{v:.digits$}")
    }
}

/// The smallest 1, 2 or 5 × 10^k at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 { raw } else { 1.0 };
    let base = 10_f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_skip_non_finite_values_and_clicks_round() {
        let s =
            |co: f32| StepScalars { co, loss: -co, similarity: 1.0, abs_max: 0.5, predicted: 0 };
        let key = CurveKey { image: 0, run_id: 1, steps: 3 };
        let c = Curves::of(key, &[s(1.0), s(f32::NAN), s(3.0)]);
        assert_eq!(c.co, vec![[0.0, 1.0], [2.0, 3.0]]);
        assert_eq!(c.loss[1], [2.0, -3.0]);
        assert_eq!(c.similarity.len(), 3);
        assert_eq!(
            (c.step_at(-4.0), c.step_at(0.6), c.step_at(1.49), c.step_at(9.0)),
            (0, 1, 1, 2)
        );
        assert_eq!(c.readout(2), "step 2: CO 3.000, loss -3.000, similarity 1.000");
        assert_eq!(c.readout(1), "step 1: CO n/a, loss n/a, similarity 1.000");
    }

    #[test]
    fn the_co_axis_holds_the_curve_and_the_target_on_round_ticks() {
        let s =
            |co: f32| StepScalars { co, loss: 0.0, similarity: 1.0, abs_max: 0.5, predicted: 0 };
        let c = Curves::of(CurveKey { image: 0, run_id: 1, steps: 2 }, &[s(-1.0), s(12.5)]);
        let a = c.co_axis(48.0);
        assert!(a.min <= -1.0 && a.max > 48.0, "{a:?}");
        assert!(a.ticks.len() >= 3, "{a:?}");
        assert_eq!(a.step, 20.0);
        assert_eq!(a.ticks, vec![-20.0, 0.0, 20.0, 40.0, 60.0]);
        assert_eq!(a.label(40.0), "40");
        // An infinite target is left out; a flat curve still gets an axis with ticks.
        let flat = Curves::of(CurveKey { image: 0, run_id: 1, steps: 1 }, &[s(0.0)]);
        let a = flat.co_axis(f64::INFINITY);
        assert!(a.ticks.len() >= 3 && a.min <= 0.0 && a.max > 0.0, "{a:?}");
        let small = Axis::holding([0.01, 0.034].into_iter());
        assert!(small.ticks.len() >= 3, "{small:?}");
        assert_eq!(small.label(0.02), "0.02");
        assert_eq!(Axis::holding(std::iter::empty()).ticks.first(), Some(&-0.5));
        // Steps are whole numbers.
        let steps =
            Curves::of(CurveKey { image: 0, run_id: 1, steps: 3 }, &[s(0.0), s(0.0), s(0.0)])
                .x_axis();
        assert_eq!((steps.label(1.0), steps.ticks), ("1".to_owned(), vec![0.0, 1.0, 2.0]));
        let long = Curves::of(CurveKey { image: 0, run_id: 1, steps: 501 }, &[]).x_axis();
        assert_eq!((long.step, long.ticks.len()), (100.0, 6));
    }
}

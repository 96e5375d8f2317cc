//! The timeline's curves: CO, loss and similarity per GAX step, built once per new step rather
//! than every frame, and the step under a click on the plot.

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
    }
}

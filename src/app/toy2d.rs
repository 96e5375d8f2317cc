//! The 2-D example tab's state: its parameters, the selected angle and the curves computed for
//! them. `App::logic` recomputes the curves when a parameter has changed; the numerical ascent
//! is a few small float64 libtorch calls per step on the sampled angles, a few milliseconds.

use std::sync::Arc;

use crate::toy2d::{self, Activation, Curves, Params};

/// The 2-D example tab.
#[derive(Debug)]
pub struct Toy2dState {
    /// The parameters the tab edits.
    pub params: Params,
    /// The angle picked for the read-out (the nearest sample is shown).
    pub selected_theta: f64,
    /// Draw the numerical ascent's heatmap over the closed form's.
    pub overlay_numeric: bool,
    /// The curves for `params`, once computed.
    pub curves: Option<Arc<Curves>>,
    /// Why the last computation failed.
    pub error: Option<String>,
    computed_for: Option<Params>,
}

impl Default for Toy2dState {
    fn default() -> Self {
        Self {
            params: Params::default(),
            selected_theta: 0.0,
            overlay_numeric: true,
            curves: None,
            error: None,
            computed_for: None,
        }
    }
}

/// The values at the selected angle.
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// The sample's angle.
    pub theta: f64,
    /// The data point.
    pub x: [f64; 2],
    /// The closed-form heatmap.
    pub h: [f64; 2],
    /// The numerical heatmap.
    pub h_numeric: [f64; 2],
    /// Per σ: CO of the closed-form heatmap and of the numerical one.
    pub co: Vec<(Activation, f64, f64)>,
}

impl Toy2dState {
    /// The most ascent steps the tab offers (each step is a handful of libtorch calls).
    pub const MAX_STEPS: usize = 200;
    /// The most angles the tab offers.
    pub const MAX_SAMPLES: usize = 2048;

    /// Recomputes the curves if the parameters changed since the last computation; returns
    /// whether it did.
    pub fn refresh(&mut self) -> bool {
        if self.computed_for == Some(self.params) {
            return false;
        }
        self.computed_for = Some(self.params);
        match toy2d::compute(&self.params) {
            Ok(c) => {
                self.curves = Some(Arc::new(c));
                self.error = None;
            }
            Err(e) => {
                self.curves = None;
                self.error = Some(e.to_string());
            }
        }
        true
    }

    /// The read-out at the sample nearest to the selected angle.
    pub fn readout(&self) -> Option<Readout> {
        let c = self.curves.as_ref()?;
        let i = c.nearest(self.selected_theta)?;
        let co = Activation::ALL
            .iter()
            .filter_map(|&s| c.co_scores(i, s).map(|(a, b)| (s, a, b)))
            .collect();
        Some(Readout {
            theta: *c.theta.get(i)?,
            x: *c.x.get(i)?,
            h: *c.h.get(i)?,
            h_numeric: *c.h_numeric.get(i)?,
            co,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_recomputes_only_on_change_and_keeps_errors() {
        let mut s = Toy2dState::default();
        assert!(s.refresh());
        assert!(!s.refresh(), "unchanged parameters are not recomputed");
        let r = s.readout().expect("read-out");
        assert!(r.theta.abs() < 0.03, "nearest sample to 0: {}", r.theta);
        assert_eq!(r.co.len(), 3);
        s.params.a1 = 0.55;
        assert!(s.refresh());
        assert_eq!(s.curves.as_ref().map(|c| c.params.a1), Some(0.55));
        s.params.theta_max = s.params.theta_min;
        assert!(s.refresh());
        assert!(s.curves.is_none() && s.error.as_deref().is_some_and(|e| e.contains("θ range")));
    }
}

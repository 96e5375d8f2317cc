//! The paper's two-dimensional example (its Section 2, Figures 1 and 6): what a GAX heatmap
//! means when everything is small enough to see.
//!
//! Conventions, as in the paper and its plotting code (`gax/src/basic/twoDplot.py` in
//! ericotjo001/explainable_ai):
//! - `W` is the rotation by θ, `[[cos θ, −sin θ], [sin θ, cos θ]]`, and `y = W⁻¹x`;
//! - the class scores are `a = (a₁, a₂)` with `a₂ = 1 − a₁`, and the data point is `x = W a`;
//! - the classifier `f(x) = σ(W⁻¹x)` is perfect (`f(x) = σ(a)`); class 1 is the label, the
//!   true class when `a₁ > a₂`;
//! - the heatmap is `h = w ⊙ x` with `w = (1, 1)` at the start, the AX sum feeds `x + h`, and
//!   `Δ = A − B` with `A = f₁(x + h) − f₁(x)`, `B = f₂(x + h) − f₂(x)`: the CO score for two
//!   classes (κ = (1, −1));
//! - for σ = identity `Δ` is linear in `w`, so k steps of gradient ascent with rate η give
//!   exactly the closed form `h = [1 + kη ∇_wΔ] ⊙ x` (eq. 3–4, [`closed`]); [`ascent`] takes
//!   the k steps through libtorch's autograd and must agree.
//!
//! The figures were drawn with `w + η·(η ∇_wΔ)`, η = 1.2 (the plotting code multiplies by η
//! twice): an effective kη of 1.44 ([`K_ETA_PLOTTED`]), while the caption says 1.2.

pub mod ascent;
pub mod closed;

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
use std::fmt::Write as _;
use std::path::Path;

use crate::convert::to_f64;
use crate::error::{Error, Result};

/// kη of the figure captions.
pub const K_ETA_CAPTION: f64 = 1.2;
/// kη the paper's plotting code used: η = 1.2 applied twice.
pub const K_ETA_PLOTTED: f64 = 1.2 * 1.2;
/// The a₁ of the paper's three panels.
pub const A1_PRESETS: [f64; 3] = [0.95, 0.7, 0.55];
/// The CSV header of [`write_csv`].
pub const CSV_HEADER: &str = "theta,x1,x2,h1,h2,h1_numeric,h2_numeric";

/// The classifier's output non-linearity σ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Activation {
    /// σ(z) = z: the case of the closed form.
    #[default]
    Identity,
    /// LeakyReLU with negative slope 0.01 (PyTorch's default).
    LeakyRelu,
    /// The logistic sigmoid.
    Sigmoid,
}

impl Activation {
    /// All three, in menu order.
    pub const ALL: [Self; 3] = [Self::Identity, Self::LeakyRelu, Self::Sigmoid];
    /// LeakyReLU's slope for negative inputs.
    pub const LEAKY_SLOPE: f64 = 0.01;

    /// The name shown in the UI and accepted on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::LeakyRelu => "leaky-relu",
            Self::Sigmoid => "sigmoid",
        }
    }

    /// σ(z).
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Self::Identity => z,
            Self::LeakyRelu => {
                if z >= 0.0 {
                    z
                } else {
                    Self::LEAKY_SLOPE * z
                }
            }
            Self::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        }
    }
}

/// Everything that fixes one set of curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// a₁ in [0, 1]; a₂ = 1 − a₁.
    pub a1: f64,
    /// The total ascent step kη of the closed form.
    pub k_eta: f64,
    /// k, the number of numerical ascent steps (each of rate η = kη / k).
    pub steps: usize,
    /// The first θ sampled.
    pub theta_min: f64,
    /// The last θ sampled.
    pub theta_max: f64,
    /// How many θ, evenly spaced from `theta_min` to `theta_max` inclusive.
    pub samples: usize,
    /// σ of the classifier the numerical ascent differentiates (the closed form is for the
    /// identity).
    pub ascent: Activation,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            a1: A1_PRESETS[0],
            k_eta: K_ETA_CAPTION,
            steps: 10,
            theta_min: -PI,
            theta_max: PI,
            samples: 128,
            ascent: Activation::Identity,
        }
    }
}

impl Params {
    /// The most θ samples accepted.
    pub const MAX_SAMPLES: usize = 1_000_000;

    /// `a = (a₁, 1 − a₁)`.
    pub fn a(&self) -> [f64; 2] {
        [self.a1, 1.0 - self.a1]
    }

    /// The sampled angles, as NumPy's `linspace` spaces them (the last is exactly `theta_max`).
    pub fn thetas(&self) -> Vec<f64> {
        let n = self.samples;
        if n < 2 {
            return vec![self.theta_min; n];
        }
        let step = (self.theta_max - self.theta_min) / to_f64(n - 1);
        (0..n)
            .map(|i| if i == n - 1 { self.theta_max } else { self.theta_min + to_f64(i) * step })
            .collect()
    }

    /// Refuses values that would give meaningless curves.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.a1) {
            return Err(Error::invalid(format!("a1 must lie in [0, 1], not {}", self.a1)));
        }
        if !self.k_eta.is_finite() {
            return Err(Error::invalid(format!("k-eta must be finite, not {}", self.k_eta)));
        }
        if self.steps == 0 {
            return Err(Error::invalid("steps must be at least 1"));
        }
        if !(self.theta_min.is_finite() && self.theta_max.is_finite())
            || self.theta_min >= self.theta_max
        {
            return Err(Error::invalid(format!(
                "the θ range must be finite with min < max, not {} … {}",
                self.theta_min, self.theta_max
            )));
        }
        if !(2..=Self::MAX_SAMPLES).contains(&self.samples) {
            return Err(Error::invalid(format!(
                "samples must lie in 2..={}, not {}",
                Self::MAX_SAMPLES,
                self.samples
            )));
        }
        Ok(())
    }
}

/// The curves of Figures 1 and 6 for one set of parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    /// What they were computed for.
    pub params: Params,
    /// The sampled angles.
    pub theta: Vec<f64>,
    /// The data point x at each θ.
    pub x: Vec<[f64; 2]>,
    /// The closed-form heatmap (eq. 3–4) at each θ.
    pub h: Vec<[f64; 2]>,
    /// The heatmap after `steps` steps of autograd ascent at each θ.
    pub h_numeric: Vec<[f64; 2]>,
}

impl Curves {
    /// max |h − h_numeric| over every θ and both components.
    pub fn max_abs_difference(&self) -> f64 {
        self.h
            .iter()
            .zip(&self.h_numeric)
            .flat_map(|(a, b)| [(a[0] - b[0]).abs(), (a[1] - b[1]).abs()])
            .fold(0.0, f64::max)
    }

    /// The index of the sample nearest to `theta`.
    pub fn nearest(&self, theta: f64) -> Option<usize> {
        self.theta
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - theta).abs().total_cmp(&(b.1 - theta).abs()))
            .map(|(i, _)| i)
    }

    /// The CO score at sample `i` under σ, of the closed-form heatmap and of the numerical one.
    pub fn co_scores(&self, i: usize, sigma: Activation) -> Option<(f64, f64)> {
        let (&theta, &x) = (self.theta.get(i)?, self.x.get(i)?);
        let w = closed::rotation(theta);
        Some((
            closed::co_score(&w, x, *self.h.get(i)?, sigma),
            closed::co_score(&w, x, *self.h_numeric.get(i)?, sigma),
        ))
    }
}

/// Computes x, the closed-form heatmap and the numerical one at every sampled θ.
pub fn compute(params: &Params) -> Result<Curves> {
    params.validate()?;
    let theta = params.thetas();
    let a = params.a();
    let x = theta.iter().map(|&t| closed::data_point(&closed::rotation(t), a)).collect();
    let h = theta.iter().map(|&t| closed::heatmap(&closed::rotation(t), a, params.k_eta)).collect();
    let h_numeric = ascent::ascend(&theta, a, params.k_eta, params.steps, params.ascent)?;
    Ok(Curves { params: *params, theta, x, h, h_numeric })
}

/// The homogeneous angles (2k+1)π/4 in `[min, max]`, where |cos θ| = |sin θ|.
pub fn homogeneous_angles(min: f64, max: f64) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return Vec::new();
    }
    let first = ((min - FRAC_PI_4) / FRAC_PI_2).ceil();
    (0..)
        .map(|k| FRAC_PI_4 + (first + f64::from(k)) * FRAC_PI_2)
        .take_while(|&t| t <= max)
        .collect()
}

/// Writes the curves as CSV with the header [`CSV_HEADER`], one row per θ.
pub fn write_csv(curves: &Curves, path: &Path) -> Result<()> {
    let mut s = String::with_capacity(64 * (curves.theta.len() + 1));
    s.push_str(CSV_HEADER);
    s.push('\n');
    for (((t, x), h), n) in curves.theta.iter().zip(&curves.x).zip(&curves.h).zip(&curves.h_numeric)
    {
        // Rust's shortest round-trip formatting: the file reads back to the same f64.
        let _ = writeln!(s, "{t},{},{},{},{},{},{}", x[0], x[1], h[0], h[1], n[0], n[1]);
    }
    crate::io::write_atomic(path, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thetas_span_the_range_like_linspace() {
        let p = Params { samples: 5, theta_min: -1.0, theta_max: 1.0, ..Params::default() };
        assert_eq!(p.thetas(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        let d = Params::default().thetas();
        assert_eq!((d.len(), d[0], d[127]), (128, -PI, PI));
    }

    #[test]
    fn homogeneous_angles_are_odd_quarter_turns_in_range() {
        let h = homogeneous_angles(-PI, PI);
        let want = [-3.0 * FRAC_PI_4, -FRAC_PI_4, FRAC_PI_4, 3.0 * FRAC_PI_4];
        assert_eq!(h.len(), 4, "{h:?}");
        assert!(h.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{h:?}");
        assert_eq!(homogeneous_angles(0.0, 0.5), Vec::<f64>::new());
        assert_eq!(homogeneous_angles(1.0, 0.0), Vec::<f64>::new());
    }

    #[test]
    fn bad_parameters_are_refused_with_their_name() {
        let bad = [
            (Params { a1: 1.5, ..Params::default() }, "a1"),
            (Params { a1: f64::NAN, ..Params::default() }, "a1"),
            (Params { k_eta: f64::INFINITY, ..Params::default() }, "k-eta"),
            (Params { steps: 0, ..Params::default() }, "steps"),
            (Params { theta_min: 1.0, theta_max: 1.0, ..Params::default() }, "θ range"),
            (Params { samples: 1, ..Params::default() }, "samples"),
        ];
        for (p, name) in bad {
            let e = compute(&p).expect_err("refused").to_string();
            assert!(e.contains(name), "{e}");
        }
    }

    /// The paper's description of Figure 1: at θ = 0 with a₁ = 0.95 the heatmap amplifies the
    /// dominant component and suppresses the other; with a₁ = a₂ it equals x at θ = ±π/4 and
    /// stays close to it nearby.
    #[test]
    fn the_heatmap_behaves_as_the_paper_describes() {
        let p = Params { a1: 0.95, samples: 129, ..Params::default() };
        let c = compute(&p).expect("curves");
        let i = c.nearest(0.0).expect("θ = 0");
        assert_eq!(c.theta[i], 0.0);
        let (x, h) = (c.x[i], c.h[i]);
        assert!(h[0] > 2.0 * x[0] && h[0] > 2.0, "h₁ large: {h:?} for x {x:?}");
        assert!(h[1] > 0.0 && h[1] < x[1] && h[1] < 0.05 * h[0], "h₂ suppressed: {h:?}");
        let (co_h, _) = c.co_scores(i, Activation::Identity).expect("CO");
        let w = closed::rotation(0.0);
        assert!(co_h > closed::co_score(&w, x, x, Activation::Identity), "GAX beats h = x");

        let even = Params { a1: 0.5, ..Params::default() };
        for center in [-FRAC_PI_4, FRAC_PI_4] {
            for offset in [0.0, -0.05, 0.05] {
                let theta = center + offset;
                let w = closed::rotation(theta);
                let x = closed::data_point(&w, even.a());
                let h = closed::heatmap(&w, even.a(), even.k_eta);
                let gap = (h[0] - x[0]).abs().max((h[1] - x[1]).abs());
                // Here ∇Δ = (cos 2θ / 2)(1, −1): zero at ±π/4, and within 0.05 of it
                // |h − x| ≤ kη (sin 0.1 / 2) max|x| < 0.05 kη.
                let bound = if offset == 0.0 { 1e-12 } else { 0.05 * even.k_eta };
                assert!(gap <= bound, "θ {theta}: |h − x| = {gap} (x {x:?}, h {h:?})");
            }
        }
    }
}

//! `toy2d`: the paper's two-dimensional example as CSV (closed form and numerical ascent).

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::toy2d::{self, Activation, Params};

/// `toy2d`.
#[derive(Debug, Args)]
pub struct Toy2dArgs {
    /// a₁, the class-1 score, in [0, 1]; a₂ = 1 − a₁ (the paper's panels: 0.95, 0.7, 0.55).
    #[arg(long, value_parser = unit_interval)]
    pub a1: f64,
    /// Total ascent step kη (1.2 in the captions; 1.44 reproduces the plotted figures).
    #[arg(
        long,
        default_value_t = toy2d::K_ETA_CAPTION,
        allow_negative_numbers = true,
        value_parser = finite
    )]
    pub k_eta: f64,
    /// k, the numerical ascent's steps, each of rate kη / k.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: u32,
    /// First θ (radians).
    #[arg(
        long,
        default_value_t = -std::f64::consts::PI,
        allow_negative_numbers = true,
        value_parser = finite
    )]
    pub theta_min: f64,
    /// Last θ (radians).
    #[arg(
        long,
        default_value_t = std::f64::consts::PI,
        allow_negative_numbers = true,
        value_parser = finite
    )]
    pub theta_max: f64,
    /// Number of θ, evenly spaced, both ends included.
    #[arg(
        long,
        default_value_t = 128,
        value_parser = clap::value_parser!(u32).range(2..=1_000_000)
    )]
    pub samples: u32,
    /// σ of the classifier the numerical ascent differentiates (the closed form is for identity).
    #[arg(long, value_enum, default_value_t = Activation::Identity)]
    pub sigma: Activation,
    /// The CSV to write: theta,x1,x2,h1,h2,h1_numeric,h2_numeric.
    #[arg(long)]
    pub out: PathBuf,
}

fn finite(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() { Ok(v) } else { Err(format!("{s} is not a finite number")) }
}

fn unit_interval(s: &str) -> Result<f64, String> {
    let v = finite(s)?;
    if (0.0..=1.0).contains(&v) { Ok(v) } else { Err(format!("{s} is not in [0, 1]")) }
}

/// Writes the CSV and reports on stderr how far the numerical ascent is from the closed form.
pub fn run(a: &Toy2dArgs) -> Result<()> {
    let params = Params {
        a1: a.a1,
        k_eta: a.k_eta,
        steps: a.steps as usize,
        theta_min: a.theta_min,
        theta_max: a.theta_max,
        samples: a.samples as usize,
        ascent: a.sigma,
    };
    let curves = toy2d::compute(&params)?;
    toy2d::write_csv(&curves, &a.out)?;
    eprintln!(
        "toy2d: wrote {} angles to {}; max |h − h_numeric| = {:.3e} ({} steps, σ = {})",
        curves.theta.len(),
        a.out.display(),
        curves.max_abs_difference(),
        params.steps,
        params.ascent.name()
    );
    Ok(())
}

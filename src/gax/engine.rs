//! The GAX loop for a batch of images with independent losses and per-image stopping.
//!
//! Step t evaluates the heatmap after t updates, reports it with its own CO, then (unless the
//! image stops) takes one Adam update. A finished image is no longer reported, so it stops
//! changing; how soon it stops costing work depends on the [`Engine`] (see `step.rs`).

use std::sync::atomic::{AtomicBool, Ordering};

use tch::{Kind, Tensor};

use super::step::{Eager, FIXED, Problem, Static, Stepper};
use super::{CompactHeatmap, Engine, GaxConfig, GaxStep};
use crate::ax;
use crate::convert::{to_i64, to_usize};
use crate::error::{Error, Result};
use crate::model::Model;

/// Why an image's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// CO exceeded the target.
    TargetReached,
    /// The step cap was reached.
    MaxSteps,
    /// The user cancelled.
    Cancelled,
    /// A step gave NaN or infinite values; the steps before it are kept.
    NonFinite,
}

impl StopReason {
    /// A short phrase for status lines.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TargetReached => "target CO reached",
            Self::MaxSteps => "step limit reached",
            Self::Cancelled => "cancelled",
            Self::NonFinite => "stopped: NaN or infinite values (the steps before are kept)",
        }
    }
}

/// Runs GAX on the batch `x` (`[B, C, H, W]`, pixels in [0, 1], C the model's channels; W and b
/// have its shape) with one label per image.
///
/// `on_step` receives every step of every image, in step order; `cancel` is checked before
/// every step. Returns each image's stop reason and final step.
pub fn run(
    model: &Model,
    x: &Tensor,
    labels: &[i64],
    cfg: &GaxConfig,
    cancel: &dyn Fn() -> bool,
    on_step: &mut dyn FnMut(GaxStep),
) -> Result<Vec<(StopReason, usize)>> {
    cfg.validate()?;
    model.check_input(x)?;
    let size = x.size();
    let (b, h, w) = (size[0], size[2], size[3]);
    if i64::try_from(labels.len()).ok() != Some(b) {
        return Err(Error::invalid(format!("{} labels for {b} images", labels.len())));
    }
    let classes = model.info().classes;
    if let Some(bad) = labels.iter().find(|&&l| l < 0 || l >= classes) {
        return Err(Error::invalid(format!("label {bad} is outside 0..{classes}")));
    }
    let dev = model.device();
    let x_all = x.to_kind(Kind::Float).to_device(dev).detach();
    let k_all = ax::kappa_for(model.info(), &Tensor::from_slice(labels).to_device(dev));
    let y0_all = tch::no_grad(|| model.forward(&x_all))?.detach();
    let top_k = to_i64(cfg.top_k.max(1)).min(classes);
    let p = Problem { model, cfg, top_k };
    let mut stepper: Box<dyn Stepper + '_> = match (cfg.engine, cfg.engine.resolve(dev)) {
        // Auto falls back to the eager engine where a capture fails (a GPU or driver that
        // cannot capture this model's step); an explicit graph engine reports the failure.
        (Engine::Auto, Engine::Graph) => match Static::new(
            p,
            x_all.shallow_clone(),
            k_all.shallow_clone(),
            y0_all.shallow_clone(),
        ) {
            Ok(s) => Box::new(s),
            Err(_) => Box::new(Eager::new(p, x_all, k_all, y0_all)),
        },
        (_, Engine::Graph) => Box::new(Static::new(p, x_all, k_all, y0_all)?),
        _ => Box::new(Eager::new(p, x_all, k_all, y0_all)),
    };

    // The running images, in batch order; the stepper's readout lists exactly these.
    let mut rows: Vec<usize> = (0..to_usize(b)).collect();
    let mut result = vec![(StopReason::Cancelled, 0); rows.len()];
    let kk = to_usize(top_k);
    let width = FIXED + 2 * kk;
    for step in 0..=cfg.max_steps {
        if cancel() {
            for &r in &rows {
                result[r] = (StopReason::Cancelled, step.saturating_sub(1));
            }
            return Ok(result);
        }
        crate::io::fault::out_of_memory(crate::io::fault::Site::GaxStep(step))?;
        let mut out = stepper.evaluate()?;
        let mut keep = Vec::new();
        for (i, &r) in rows.iter().enumerate() {
            let s = &out.scalars[i * width..(i + 1) * width];
            #[expect(
                clippy::cast_possible_truncation,
                reason = "class indices travel as exact small floats in the packed readout"
            )]
            let class = |v: f32| v as i64;
            if !s[..4].iter().all(|v| v.is_finite()) {
                result[r] = (StopReason::NonFinite, step.saturating_sub(1));
                continue;
            }
            on_step(GaxStep {
                image: r,
                step,
                co: s[0],
                loss: s[1],
                similarity: s[2],
                abs_max: s[3],
                predicted: class(s[4]),
                top: (0..kk).map(|j| (class(s[FIXED + kk + j]), s[FIXED + j])).collect(),
                heatmap: CompactHeatmap {
                    height: to_usize(h),
                    width: to_usize(w),
                    data: std::mem::take(&mut out.heat[i]),
                },
            });
            if f64::from(s[0]) > cfg.target_co {
                result[r] = (StopReason::TargetReached, step);
            } else if step >= cfg.max_steps {
                result[r] = (StopReason::MaxSteps, step);
            } else {
                keep.push(i);
            }
        }
        if keep.is_empty() {
            break;
        }
        stepper.advance(&keep)?;
        rows = keep.iter().map(|&i| rows[i]).collect();
    }
    Ok(result)
}

/// A cancel check backed by an atomic flag.
pub fn flag(cancel: &AtomicBool) -> impl Fn() -> bool + '_ {
    move || cancel.load(Ordering::Relaxed)
}

//! The GAX loop for a batch of images with independent losses and per-image stopping.
//!
//! Step t evaluates the heatmap after t updates, reports it with its own CO, then (unless the
//! image stops) takes one Adam update. A finished image leaves the batch, so it stops changing
//! and stops costing work.

use std::sync::atomic::{AtomicBool, Ordering};

use tch::{Device, Kind, Tensor};

use super::adam::Adam;
use super::{CompactHeatmap, GaxConfig, GaxStep};
use crate::ax;
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
}

impl StopReason {
    /// A short phrase for status lines.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TargetReached => "target CO reached",
            Self::MaxSteps => "step limit reached",
            Self::Cancelled => "cancelled",
        }
    }
}

fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

/// Runs GAX on the batch `x` (`[B, 3, H, W]`, pixels in [0, 1]) with one label per image.
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
    let lab = Tensor::from_slice(labels).to_device(dev);
    let k_all = ax::kappa(&lab, classes);
    let y0_all = tch::no_grad(|| model.forward(&x_all))?.detach();

    // Active rows, compacted as images finish.
    let mut rows: Vec<usize> = (0..to_usize(b)).collect();
    let mut xa = x_all.shallow_clone();
    let mut ka = k_all;
    let mut y0 = y0_all;
    let mut wp = x_all.ones_like();
    let mut bp = x_all.full_like(0.01);
    let mut adam_w = Adam::new(&wp, cfg.lr);
    let mut adam_b = Adam::new(&bp, cfg.lr);
    let mut result = vec![(StopReason::Cancelled, 0); rows.len()];
    let top_k = i64::try_from(cfg.top_k.max(1)).unwrap_or(5).min(classes);
    let eps = cfg.eps;

    for step in 0..=cfg.max_steps {
        if cancel() {
            for &r in &rows {
                result[r] = (StopReason::Cancelled, step.saturating_sub(1));
            }
            return Ok(result);
        }
        let wl = wp.detach().set_requires_grad(true);
        let bl = bp.detach().set_requires_grad(true);
        let heat = (&wl * &xa + &bl).tanh();
        let xp = cfg.variant.apply(&xa, &heat);
        let y = model.forward(&xp)?;
        let co = ax::co_from_logits(&y, &y0, &ka);
        let n = xa.size()[0];
        let sim = ((&heat - &xa + eps).square() / (&xa + eps)).view([n, -1]).mean_dim([1_i64].as_slice(), false, Kind::Float);
        let loss = -&co + sim.reciprocal() * cfg.lambda;

        // Everything the UI needs, copied off the device in one go per tensor.
        let (probs, classes_top) = y.detach().softmax(1, Kind::Float).topk(top_k, 1, true, true);
        let cpu = |t: &Tensor| t.detach().to_device(Device::Cpu);
        let co_v = Vec::<f32>::try_from(cpu(&co))?;
        let loss_v = Vec::<f32>::try_from(cpu(&loss))?;
        let sim_v = Vec::<f32>::try_from(cpu(&sim))?;
        let pred_v = Vec::<i64>::try_from(cpu(&y.argmax(1, false)))?;
        let probs_v = Vec::<f32>::try_from(cpu(&probs).view([-1]))?;
        let cls_v = Vec::<i64>::try_from(cpu(&classes_top).view([-1]))?;
        // Halved and reduced by libtorch (vectorised, multi-threaded) before the copy: a quarter
        // of the bytes cross, and no per-value loop runs here. Both round to nearest even.
        let heat_d = heat.detach();
        let heat_v = Vec::<half::f16>::try_from(heat_d.to_kind(Kind::Half).to_device(Device::Cpu).view([-1]))?;
        let amax_v = Vec::<f32>::try_from(cpu(&heat_d.abs().view([n, -1]).amax([1_i64].as_slice(), false)))?;
        let per = to_usize(3 * h * w);
        let kk = to_usize(top_k);
        let mut keep = Vec::new();
        for (i, &r) in rows.iter().enumerate() {
            let compact = CompactHeatmap { height: to_usize(h), width: to_usize(w), data: heat_v[i * per..(i + 1) * per].to_vec() };
            on_step(GaxStep {
                image: r,
                step,
                co: co_v[i],
                loss: loss_v[i],
                similarity: sim_v[i],
                abs_max: amax_v[i],
                predicted: pred_v[i],
                top: (0..kk).map(|j| (cls_v[i * kk + j], probs_v[i * kk + j])).collect(),
                heatmap: compact,
            });
            if f64::from(co_v[i]) > cfg.target_co {
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
        let grads = Tensor::f_run_backward(&[loss.sum(Kind::Float)], &[&wl, &bl], false, false)?;
        let (mut gw, mut gb) = (grads[0].shallow_clone(), grads[1].shallow_clone());
        if keep.len() < rows.len() {
            let idx = Tensor::from_slice(&keep.iter().map(|&i| i64::try_from(i).unwrap_or(0)).collect::<Vec<_>>()).to_device(dev);
            rows = keep.iter().map(|&i| rows[i]).collect();
            xa = xa.index_select(0, &idx);
            ka = ka.index_select(0, &idx);
            y0 = y0.index_select(0, &idx);
            wp = wp.index_select(0, &idx);
            bp = bp.index_select(0, &idx);
            gw = gw.index_select(0, &idx);
            gb = gb.index_select(0, &idx);
            adam_w.select_rows(&idx);
            adam_b.select_rows(&idx);
        }
        tch::no_grad(|| {
            adam_w.update(&mut wp, &gw);
            adam_b.update(&mut bp, &gb);
        });
    }
    Ok(result)
}

/// A cancel check backed by an atomic flag.
pub fn flag(cancel: &AtomicBool) -> impl Fn() -> bool + '_ {
    move || cancel.load(Ordering::Relaxed)
}

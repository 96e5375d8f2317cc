//! The GAX rows of a dataset run: a batched GAX run per variant, of which each image's last
//! step is scored.

use crate::ax::{Readout, Variant};
use crate::convert::to_i64;
use crate::error::{Error, Result};
use crate::gax::{GaxConfig, GaxStep};
use crate::model::Model;

/// The last reported step of each image of a batched GAX run.
pub(super) struct GaxFinals {
    /// CO of each image's final heatmap.
    pub(super) co: Vec<f32>,
    /// The prediction on each image's final x'.
    pub(super) predicted: Vec<i64>,
    /// The final heatmaps, `[B, C, H, W]` on the CPU.
    pub(super) heatmaps: tch::Tensor,
}

/// Runs GAX for `steps` on the batch; predictions on the final x' are read by `readout` (for
/// [`Readout::Positive`] from the chosen output's sigmoid, so every output is reported).
pub(super) fn gax_finals(
    model: &Model,
    x: &tch::Tensor,
    (labels, readout): (&[i64], Readout),
    variant: Variant,
    steps: usize,
    cancel: &dyn Fn() -> bool,
) -> Result<GaxFinals> {
    let top_k = match readout {
        Readout::ArgMax => 1,
        Readout::Positive(_) => crate::convert::to_usize(model.info().classes),
    };
    let cfg = GaxConfig { max_steps: steps, variant, top_k, ..GaxConfig::default() };
    let n = labels.len();
    let mut last: Vec<Option<GaxStep>> = vec![None; n];
    let outcome = crate::gax::engine::run(model, x, labels, &cfg, cancel, &mut |s| {
        if let Some(slot) = last.get_mut(s.image) {
            *slot = Some(s);
        }
    })?;
    if cancel() {
        return Err(Error::Cancelled);
    }
    if let Some(i) = outcome.iter().position(|(r, _)| *r == crate::gax::StopReason::NonFinite) {
        return Err(Error::NonFinite(format!(
            "GAX ({}) of image {i} of the batch after step {}",
            variant.name(),
            outcome[i].1
        )));
    }
    let mut co = Vec::with_capacity(n);
    let mut predicted = Vec::with_capacity(n);
    let mut maps = Vec::with_capacity(n);
    for s in last {
        let s = s.ok_or_else(|| Error::invalid("GAX reported no step for an image"))?;
        co.push(s.co);
        predicted.push(match readout {
            Readout::ArgMax => s.predicted,
            Readout::Positive(t) => {
                i64::from(s.top.iter().any(|&(class, prob)| class == t && prob > 0.5))
            }
        });
        let (h, w) = (to_i64(s.heatmap.height), to_i64(s.heatmap.width));
        maps.push(tch::Tensor::from_slice(&s.heatmap.to_f32()).view([-1, h, w]));
    }
    Ok(GaxFinals { co, predicted, heatmaps: tch::Tensor::stack(&maps, 0) })
}

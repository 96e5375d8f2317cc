//! Segment-by-segment backward through a graph cut at every ReLU call, applying a rule to the
//! gradient that reaches each ReLU output (Guided Backprop, Deconvolution).

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
pub use crate::model::ctx::Tape;

/// The rule applied to the gradient `g` reaching a ReLU's output, given its input `z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// max(g, 0)·1[z > 0].
    Guided,
    /// max(g, 0).
    Deconvolution,
}

impl Tape {
    /// A tape for Guided Backprop.
    pub fn guided() -> Self {
        Self { cuts: Vec::new(), rule: Some(Rule::Guided) }
    }

    /// A tape for Deconvolution.
    pub fn deconvolution() -> Self {
        Self { cuts: Vec::new(), rule: Some(Rule::Deconvolution) }
    }
}

fn apply(rule: Rule, g: &Tensor, z: &Tensor) -> Tensor {
    let pos = g.clamp_min(0.0);
    match rule {
        Rule::Guided => pos * z.gt(0.0).to_kind(Kind::Float),
        Rule::Deconvolution => pos,
    }
}

fn accumulate(acc: &mut [Option<Tensor>], grads: Vec<Tensor>) {
    for (slot, g) in acc.iter_mut().zip(grads) {
        if g.defined() {
            *slot = Some(match slot.take() {
                Some(a) => a + g,
                None => g,
            });
        }
    }
}

/// Back-propagates `root` to `x` through the cut graph recorded in `tape`.
pub fn backward(root: &Tensor, tape: Tape, x: &Tensor) -> Result<Tensor> {
    let rule = tape.rule.ok_or(Error::invalid("tape without a rule"))?;
    let cuts = tape.cuts;
    // Slot k < cuts.len() accumulates the gradient of cut k's leaf; the last slot is x's.
    let mut inputs: Vec<Tensor> = cuts.iter().map(|c| c.leaf.shallow_clone()).collect();
    inputs.push(x.shallow_clone());
    let mut acc: Vec<Option<Tensor>> = (0..inputs.len()).map(|_| None).collect();
    accumulate(&mut acc, Tensor::f_run_backward(&[root], &inputs, true, false)?);
    for k in (0..cuts.len()).rev() {
        let Some(g) = acc[k].take() else { continue };
        let gz = if cuts[k].pass_through { g } else { apply(rule, &g, &cuts[k].z.detach()) };
        let seg_root = (&cuts[k].z * gz).sum(Kind::Float);
        if !seg_root.requires_grad() {
            continue;
        }
        let mut seg_inputs: Vec<Tensor> = inputs[..k].iter().map(Tensor::shallow_clone).collect();
        seg_inputs.push(x.shallow_clone());
        // Segments can share nodes that are not ReLUs (a block input feeds both the residual
        // branch and the identity path), so every segment keeps the graph alive.
        let grads = Tensor::f_run_backward(&[&seg_root], &seg_inputs, true, false)?;
        let (earlier, gx) = grads.split_at(k);
        accumulate(&mut acc[..k], earlier.iter().map(Tensor::shallow_clone).collect());
        accumulate(&mut acc[cuts.len()..], gx.iter().map(Tensor::shallow_clone).collect());
    }
    acc.pop().flatten().ok_or(Error::invalid("the target does not depend on the input"))
}

//! The forward-pass context: what each ReLU call does in the backward pass, and which layer
//! output (if any) is tapped for Grad-CAM.
//!
//! tch has no module or tensor hooks, so every native model routes each ReLU *call* through
//! [`Ctx::relu`] and each named layer output through [`Ctx::tap`]. The gradient rules of the
//! attribution methods are expressed here without custom autograd functions.

use tch::Tensor;

/// The backward behaviour of every ReLU call in one forward pass.
#[derive(Debug, Default)]
pub enum ReluMode {
    /// The ordinary ReLU and its ordinary gradient.
    #[default]
    Plain,
    /// Cut the graph at every ReLU call so that a gradient rule can be applied to the incoming
    /// gradient (Guided Backprop, Deconvolution). See [`Tape`].
    Tape(Tape),
    /// DeepLift's Rescale rule; the batch is `cat([x, baseline])`, first half inputs.
    DeepLift,
}

/// One graph cut: the ReLU's pre-activation `z` (with its graph back to earlier cuts) and the
/// fresh leaf that replaced `relu(z)` in the rest of the forward; or, for a pass-through cut,
/// a tensor many later segments read and the leaf that replaced it.
#[derive(Debug)]
pub struct Cut {
    /// The pre-activation (or the pass-through tensor), still attached to its segment.
    pub z: Tensor,
    /// The detached leaf standing for `relu(z)` (or for `z` itself when `pass_through`).
    pub leaf: Tensor,
    /// No ReLU here: the gradient reaching the leaf goes on unchanged, no rule applied.
    pub pass_through: bool,
}

/// The cuts of one forward pass in creation order.
#[derive(Debug, Default)]
pub struct Tape {
    /// Cuts in the order the ReLU calls happened.
    pub cuts: Vec<Cut>,
    /// The rule applied to each cut's incoming gradient.
    pub rule: Option<crate::attribution::tape::Rule>,
}

/// A request to capture one layer's output for Grad-CAM.
#[derive(Debug)]
pub struct TapRequest {
    /// The torchvision name of the layer, e.g. `conv1`, `features.0`, `layer4.2.conv2`.
    pub name: String,
    /// The captured activation, filled in by the forward pass.
    pub activation: Option<Tensor>,
    /// The leaf that replaced the activation; gradients are taken with respect to it.
    pub leaf: Option<Tensor>,
}

/// Per-forward context threaded through every native model.
#[derive(Debug, Default)]
pub struct Ctx {
    /// What ReLU calls do.
    pub relu: ReluMode,
    /// The layer to capture, if any.
    pub tap: Option<TapRequest>,
    /// Every layer name offered to [`Ctx::tap`] during the pass, in order (for error messages
    /// and the layer picker).
    pub seen_layers: Option<Vec<String>>,
    /// Training mode: BatchNorm uses batch statistics and dropout is active.
    pub train: bool,
}

impl Ctx {
    /// A context with plain ReLUs and no tap.
    pub fn plain() -> Self {
        Self::default()
    }

    /// A training-mode context (batch statistics, dropout).
    pub fn training() -> Self {
        Self { train: true, ..Self::default() }
    }

    /// A context with the given ReLU mode.
    pub fn with_relu(relu: ReluMode) -> Self {
        Self { relu, ..Self::default() }
    }

    /// A context that captures the output of `layer`.
    pub fn tapping(layer: &str) -> Self {
        Self {
            tap: Some(TapRequest { name: layer.to_owned(), activation: None, leaf: None }),
            ..Self::default()
        }
    }

    /// Applies one ReLU call according to the mode.
    ///
    /// Every model passes a fresh pre-activation that nothing else reads afterwards, so with
    /// plain ReLUs and no tap the ReLU runs in place, as torchvision's `ReLU(inplace=True)`: one
    /// buffer less per call. (A tapped activation may share `z`'s storage, so taps keep the
    /// out-of-place form; autograd's version check would reject any unsafe in-place use.)
    pub fn relu(&mut self, z: &Tensor) -> Tensor {
        match &mut self.relu {
            ReluMode::Plain if self.tap.is_none() => z.shallow_clone().relu_(),
            ReluMode::Plain => z.relu(),
            ReluMode::Tape(tape) => {
                let leaf = z.relu().detach().set_requires_grad(true);
                tape.cuts.push(Cut {
                    z: z.shallow_clone(),
                    leaf: leaf.shallow_clone(),
                    pass_through: false,
                });
                leaf
            }
            ReluMode::DeepLift => deeplift_relu(z),
        }
    }

    /// Marks a tensor that many later ReLU segments read (DenseNet's concatenated features).
    /// With a tape it becomes a pass-through cut, so the segment-by-segment backward sums the
    /// gradients reaching it and crosses the graph before it once, not once per reader (which
    /// is quadratic in a dense block). The values and, up to rounding, the gradients are those
    /// of the uncut graph; other modes return `t` as it is.
    pub fn share(&mut self, t: Tensor) -> Tensor {
        match &mut self.relu {
            ReluMode::Tape(tape) if t.requires_grad() => {
                let leaf = t.detach().set_requires_grad(true);
                tape.cuts.push(Cut { z: t, leaf: leaf.shallow_clone(), pass_through: true });
                leaf
            }
            _ => t,
        }
    }

    /// Offers a named layer output; returns the tensor the rest of the forward should use.
    pub fn tap(&mut self, name: &str, t: Tensor) -> Tensor {
        if let Some(seen) = &mut self.seen_layers {
            seen.push(name.to_owned());
        }
        match &mut self.tap {
            Some(req) if req.name == name && req.leaf.is_none() => {
                let leaf = t.detach().set_requires_grad(true);
                req.activation = Some(t.detach());
                req.leaf = Some(leaf.shallow_clone());
                leaf
            }
            _ => t,
        }
    }
}

/// DeepLift's Rescale multiplier as a surrogate whose forward is `relu(z)` exactly and whose
/// backward multiplies the incoming gradient by `m = Δrelu(z)/Δz`, or by the ordinary
/// `1[z > 0]` where `|Δz| < 1e-10` (Captum 0.9.0's rule).
fn deeplift_relu(z: &Tensor) -> Tensor {
    let n = z.size()[0] / 2;
    let a = z.relu();
    let zd = z.detach();
    let ad = a.detach();
    let dz_half = zd.narrow(0, 0, n) - zd.narrow(0, n, n);
    let da_half = ad.narrow(0, 0, n) - ad.narrow(0, n, n);
    let dz = Tensor::cat(&[&dz_half, &dz_half], 0);
    let da = Tensor::cat(&[&da_half, &da_half], 0);
    let small = dz.abs().lt(1e-10);
    let safe = dz.ones_like().where_self(&small, &dz);
    let plain = zd.gt(0.0).to_kind(zd.kind());
    let m = plain.where_self(&small, &(da / safe));
    ad + m * (z - zd)
}

//! The model zoo: native tch networks with torchvision names, TorchScript modules, model cards
//! and the one [`Model`] type every other part of the program calls.
//!
//! `source` says where a model comes from, `load` and `torchscript` load it, `init` makes
//! seeded and trainable weights, `info` is what a loaded model is in plain data, `normalize`
//! the normalisation inside its forward, `hash` its identity; `net` and the architecture files
//! are the networks themselves.

pub mod alexnet;
pub mod arch;
pub mod card;
pub mod ctx;
pub mod densenet;
mod hash;
mod info;
mod init;
pub mod layers;
mod load;
mod net;
mod normalize;
pub mod resnet;
mod source;
pub mod squeezenet;
mod torchscript;
pub mod weights;

use tch::{CModule, Device, Kind, Tensor, nn};

pub use arch::Arch;
pub use card::{CardError, Labels, ModelCard, WriteCard};
pub use ctx::{Ctx, ReluMode};
pub use hash::{file_hash, text_hash};
pub use info::ModelInfo;
pub use normalize::Normalize;
pub use source::{ModelSource, TrainableSpec};
pub use weights::{all_finite, check_finite};

use crate::error::{Error, Result};

enum Backend {
    Native { vs: nn::VarStore, net: Box<net::Net> },
    Script(CModule),
}

/// A classifier taking [0, 1] pixels `[N, channels, H, W]` (1 or 3 channels) and returning raw
/// logits `[N, C]`.
pub struct Model {
    kind: Backend,
    /// Per-channel mean and std subtracted and divided inside the forward, if any.
    norm: Option<(Tensor, Tensor)>,
    device: Device,
    info: ModelInfo,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).field("device", &self.device).finish()
    }
}

impl Model {
    fn finish(kind: Backend, info: ModelInfo, device: Device) -> Self {
        let norm = info.normalize.tensors(device);
        Self { kind, norm, device, info }
    }

    /// The variable store of a native model (for optimisers and saving).
    pub fn var_store(&self) -> Option<&nn::VarStore> {
        match &self.kind {
            Backend::Native { vs, .. } => Some(vs),
            Backend::Script(_) => None,
        }
    }

    /// What this model is.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The device the model lives on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Whether the ReLU-rule methods and Grad-CAM can run (native models only).
    pub fn is_native(&self) -> bool {
        matches!(self.kind, Backend::Native { .. })
    }

    /// Logits for [0, 1] pixels, with the given per-forward context.
    pub fn forward_ctx(&self, x: &Tensor, ctx: &mut Ctx) -> Result<Tensor> {
        let s = x.size();
        if s.len() != 4 || s[1] != self.info.channels {
            return Err(Error::invalid(format!(
                "expected an image batch [N, {c}, H, W] for this {c}-channel model, got {s:?}",
                c = self.info.channels
            )));
        }
        let xn = match &self.norm {
            Some((mean, std)) => (x - mean) / std,
            None => x.shallow_clone(),
        };
        match &self.kind {
            Backend::Native { net, .. } => Ok(net.forward(&xn, ctx)),
            Backend::Script(m) => {
                if !matches!(ctx.relu, ReluMode::Plain) || ctx.tap.is_some() {
                    return Err(Error::invalid(
                        "a TorchScript module is opaque: its ReLU calls and layers cannot be \
                         reached, so only Saliency, InputXGradient, AX and GAX run on it",
                    ));
                }
                Ok(m.forward_ts(&[xn])?)
            }
        }
    }

    /// Logits for [0, 1] pixels with plain ReLUs.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_ctx(x, &mut Ctx::plain())
    }

    /// The names of every tappable layer, in forward order (empty for TorchScript).
    pub fn layer_names(&self) -> Result<Vec<String>> {
        if !self.is_native() {
            return Ok(Vec::new());
        }
        let mut ctx = Ctx { seen_layers: Some(Vec::new()), ..Ctx::default() };
        let [h, w] = self.info.input_size;
        let x = Tensor::zeros([1, self.info.channels, h, w], (Kind::Float, self.device));
        let _logits = tch::no_grad(|| self.forward_ctx(&x, &mut ctx))?;
        Ok(ctx.seen_layers.unwrap_or_default())
    }

    /// Checks that `x` is a float batch `[N, channels, H, W]` on which this model can run.
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let s = x.size();
        let c = self.info.channels;
        if s.len() != 4 || s[1] != c {
            return Err(Error::invalid(format!(
                "expected an image batch [N, {c}, H, W] for this {c}-channel model, got {s:?}"
            )));
        }
        if s[0] < 1 {
            return Err(Error::invalid("empty batch"));
        }
        let min = if self.info.arch.starts_with("alexnet") { 63 } else { 32 };
        if s[2] < min || s[3] < min {
            return Err(Error::invalid(format!(
                "image {}×{} is too small for {} (at least {min}×{min})",
                s[3], s[2], self.info.arch
            )));
        }
        Ok(())
    }
}

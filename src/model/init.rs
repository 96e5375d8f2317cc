//! Weight initialisation: seeded random weights for random models (independent of libtorch's
//! global generator), torchvision's initialisation where it differs from tch's, and models
//! built for training.

use tch::{Device, Tensor, nn};

use super::info::{ModelInfo, checked_classes};
use super::net::Net;
use super::{Arch, Backend, Model, TrainableSpec, weights};
use crate::convert::to_usize;
use crate::error::{Error, Result};

impl Model {
    /// A model whose parameters train: seeded random weights, optionally initialised from a
    /// safetensors file (tensors whose name and shape fit; the new head stays random).
    pub fn for_training(spec: TrainableSpec<'_>, device: Device) -> Result<Self> {
        let TrainableSpec { arch, classes, labels, normalize, input_size, init, seed, head_bias } =
            spec;
        let classes = checked_classes(arch, Some(classes))?;
        if arch.default_channels() != 3 {
            return Err(Error::invalid(format!(
                "{arch} takes 1-channel input; training runs on RGB batches (use densenet121 or \
                 resnet50 and fine-tune from exported weights)"
            )));
        }
        tch::manual_seed(seed);
        let (vs, net) = Net::build(arch, 3, classes, device);
        torchvision_init(&vs, arch)?;
        if let Some(value) = head_bias {
            let name = arch.head_bias().ok_or_else(|| {
                Error::invalid(format!("{} has no head bias to initialise", arch.name()))
            })?;
            tch::no_grad(|| -> Result<()> {
                for (n, mut v) in vs.variables() {
                    if n == name {
                        let _ = v.f_fill_(value)?;
                    }
                }
                Ok(())
            })?;
        }
        if let Some(p) = init {
            weights::load_matching(&vs, arch, p)?;
        }
        let info = ModelInfo {
            labels,
            input_size,
            source: format!("training {arch} seed {seed}"),
            ..ModelInfo::native(arch, classes, normalize)
        };
        Ok(Self::finish(Backend::Native { vs, net: Box::new(net) }, info, device))
    }
}

/// torchvision's initialisation where it differs from tch's defaults: SqueezeNet's final conv
/// is N(0, 0.01) (a wider start tends to leave every final ReLU dead, so training never moves).
fn torchvision_init(vs: &nn::VarStore, arch: Arch) -> Result<()> {
    if arch != Arch::Squeezenet1_1 {
        return Ok(());
    }
    tch::no_grad(|| -> Result<()> {
        for (name, mut v) in vs.variables() {
            if name == "classifier.1.weight" {
                v.f_copy_(&(v.f_randn_like()? * 0.01))?;
            }
        }
        Ok(())
    })
}

/// SplitMix64 uniforms in [0, 1) from `seed`.
fn uniforms(seed: i64) -> impl FnMut() -> f32 {
    let mut state = u64::from_ne_bytes(seed.to_ne_bytes()) ^ 0x9E37_79B9_7F4A_7C15;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // The top 24 bits as a fraction.
        #[expect(clippy::cast_precision_loss, reason = "a 24-bit value is exact in f32")]
        let u = ((z ^ (z >> 31)) >> 40) as f32 / 16_777_216.0;
        u
    }
}

/// Seeded random weights from a private generator, so a random model is the same whatever
/// else uses libtorch's global generator meanwhile (tests run in parallel threads). Weights are
/// Kaiming-uniform (bound √(6 / fan_in)), biases zero, and BatchNorm gets non-trivial running
/// statistics so it is not an identity.
pub(super) fn seeded_weights(vs: &nn::VarStore, seed: i64) -> Result<()> {
    let mut next = uniforms(seed);
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    tch::no_grad(|| -> Result<()> {
        for (name, mut v) in vars {
            let size = v.size();
            let count = to_usize(size.iter().product());
            let values: Vec<f32> = if name.ends_with("running_mean") {
                (0..count).map(|_| (next() - 0.5) * 0.2).collect()
            } else if name.ends_with("running_var") {
                (0..count).map(|_| next() * 0.5 + 0.75).collect()
            } else if size.len() > 1 {
                let fan_in: i64 = size[1..].iter().product();
                let bound = (6.0 / crate::convert::to_f32(to_usize(fan_in.max(1)))).sqrt();
                (0..count).map(|_| (2.0 * next() - 1.0) * bound).collect()
            } else if name.contains("bn") || name.contains("norm") || name.contains("downsample.1")
            {
                // BatchNorm scale and shift.
                if name.ends_with("weight") {
                    (0..count).map(|_| 0.9 + 0.2 * next()).collect()
                } else {
                    (0..count).map(|_| (next() - 0.5) * 0.2).collect()
                }
            } else {
                vec![0.0; count]
            };
            v.f_copy_(&Tensor::from_slice(&values).view(size.as_slice()).to_device(v.device()))?;
        }
        Ok(())
    })
}

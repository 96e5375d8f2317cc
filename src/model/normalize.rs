//! Input normalisation, part of the model: applied inside its forward, so every attribution,
//! heatmap and GAX parameter lives in [0, 1] pixel space (SPEC §2).

use tch::{Device, Tensor};

use crate::error::{Error, Result};

/// Input normalisation applied inside the model's forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Normalize {
    /// ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
    #[default]
    Imagenet,
    /// Pixels go in as they are, in [0, 1].
    None,
    /// torchxrayvision's scaling: p ↦ (2p − 1)·1024, one value for every channel.
    Xrv,
}

impl Normalize {
    /// Parses `imagenet`, `none` or `xrv`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "imagenet" => Ok(Self::Imagenet),
            "none" => Ok(Self::None),
            "xrv" => Ok(Self::Xrv),
            _ => {
                Err(Error::invalid(format!("unknown normalisation '{s}' (imagenet, none or xrv)")))
            }
        }
    }

    /// Whether a model with `channels` input channels can use it (ImageNet's statistics are
    /// per RGB channel).
    pub fn fits_channels(self, channels: i64) -> bool {
        self != Self::Imagenet || channels == 3
    }

    /// The name as written in cards and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Imagenet => "imagenet",
            Self::None => "none",
            Self::Xrv => "xrv",
        }
    }

    /// The mean and std (`[1, 3, 1, 1]` per channel, or `[1, 1, 1, 1]` for all) on `device`,
    /// or `None` for no normalisation.
    ///
    /// `xrv` is (p − 0.5) / (1/2048): the divisor is a power of two, so this equals
    /// torchxrayvision's (2p − 1)·1024 bit for bit.
    pub(super) fn tensors(self, device: Device) -> Option<(Tensor, Tensor)> {
        let channels = |v: [f32; 3]| Tensor::from_slice(&v).view([1, 3, 1, 1]).to_device(device);
        let all = |v: f32| Tensor::from_slice(&[v]).view([1, 1, 1, 1]).to_device(device);
        match self {
            Self::Imagenet => {
                Some((channels([0.485, 0.456, 0.406]), channels([0.229, 0.224, 0.225])))
            }
            Self::None => None,
            Self::Xrv => Some((all(0.5), all(1.0 / 2048.0))),
        }
    }
}

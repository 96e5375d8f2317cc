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
}

impl Normalize {
    /// Parses `imagenet` or `none`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "imagenet" => Ok(Self::Imagenet),
            "none" => Ok(Self::None),
            _ => Err(Error::invalid(format!("unknown normalisation '{s}' (imagenet or none)"))),
        }
    }

    /// The name as written in cards and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Imagenet => "imagenet",
            Self::None => "none",
        }
    }

    /// The per-channel mean and std `[1, 3, 1, 1]` on `device`, or `None` for no normalisation.
    pub(super) fn tensors(self, device: Device) -> Option<(Tensor, Tensor)> {
        let channels = |v: [f32; 3]| Tensor::from_slice(&v).view([1, 3, 1, 1]).to_device(device);
        match self {
            Self::Imagenet => {
                Some((channels([0.485, 0.456, 0.406]), channels([0.229, 0.224, 0.225])))
            }
            Self::None => None,
        }
    }
}

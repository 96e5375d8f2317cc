//! Where a model comes from: a card, a zoo architecture with weights, a TorchScript file or
//! seeded random weights; and what a trainable model is built from.

use std::path::{Path, PathBuf};

use super::{Arch, Normalize};

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// A model card JSON file.
    Card(PathBuf),
    /// A zoo architecture with a safetensors file.
    Arch {
        /// The architecture.
        arch: Arch,
        /// The weights.
        weights: PathBuf,
        /// Class count (default: the architecture's).
        classes: Option<i64>,
        /// A label file.
        labels: Option<PathBuf>,
        /// Normalisation inside the forward.
        normalize: Normalize,
    },
    /// A TorchScript file.
    TorchScript {
        /// The `.pt` file.
        path: PathBuf,
        /// Normalisation applied before the module.
        normalize: Normalize,
        /// A label file.
        labels: Option<PathBuf>,
    },
    /// A zoo architecture with seeded random weights (tests, benchmarks, demos without weights).
    Random {
        /// The architecture.
        arch: Arch,
        /// Class count.
        classes: i64,
        /// Normalisation.
        normalize: Normalize,
        /// Seed for libtorch's generator.
        seed: i64,
    },
}

impl ModelSource {
    /// The file the model was read from, if any (for the recent-files list).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Card(p) | Self::Arch { weights: p, .. } | Self::TorchScript { path: p, .. } => {
                Some(p)
            }
            Self::Random { .. } => None,
        }
    }
}

/// What [`super::Model::for_training`] builds.
#[derive(Debug, Clone)]
pub struct TrainableSpec<'a> {
    /// Architecture.
    pub arch: Arch,
    /// Class count.
    pub classes: i64,
    /// One label per class.
    pub labels: Vec<String>,
    /// Normalisation inside the forward.
    pub normalize: Normalize,
    /// `[height, width]`.
    pub input_size: [i64; 2],
    /// Initial weights, loaded where names and shapes fit.
    pub init: Option<&'a Path>,
    /// Seed of the random initialisation.
    pub seed: i64,
    /// Initial value of every bias of the new head's last layer (None: zero, as torchvision).
    /// SqueezeNet's head ends in a ReLU; a small positive start keeps it from dying at once.
    pub head_bias: Option<f64>,
}

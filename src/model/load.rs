//! Loading a model from its source: a model card, a zoo architecture with safetensors weights,
//! or seeded random weights (TorchScript modules in `torchscript.rs`).

use std::path::Path;

use tch::Device;

use super::info::{
    ModelInfo, checked_channels, checked_classes, checked_input_size, checked_labels,
};
use super::net::Net;
use super::{Arch, Backend, Labels, Model, ModelCard, ModelSource, Normalize, card, hash, weights};
use crate::error::{Error, Result};

impl Model {
    /// Loads a model from `source` onto `device`.
    pub fn load(source: &ModelSource, device: Device) -> Result<Self> {
        match source {
            ModelSource::Card(path) => Self::load_card(path, device).map_err(|e| in_card(path, e)),
            ModelSource::Arch { arch, weights, classes, labels, normalize } => {
                let classes = checked_classes(*arch, *classes)?;
                let labels = match labels {
                    Some(p) => Some(checked_labels(card::read_labels(p)?, classes, p)?),
                    None => None,
                };
                let spec = NativeSpec {
                    arch: *arch,
                    classes,
                    labels,
                    normalize: *normalize,
                    input_size: arch.default_input_size(),
                    channels: None,
                    multilabel: None,
                };
                Self::load_native(&spec, weights, device)
            }
            ModelSource::TorchScript { path, normalize, labels } => {
                Self::load_script(path, *normalize, labels.as_deref(), device)
            }
            ModelSource::Random { arch, classes, normalize, seed } => {
                Self::load_random(*arch, *classes, *normalize, *seed, device)
            }
        }
    }

    fn load_card(path: &Path, device: Device) -> Result<Self> {
        let card = ModelCard::read(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let normalize = Normalize::parse(&card.normalize)?;
        let input_size = checked_input_size(card.input_size, path)?;
        let labels = match &card.labels {
            Some(Labels::List(l)) => Some(checked_labels(l.clone(), card.classes, path)?),
            Some(Labels::File(f)) => {
                Some(checked_labels(card::read_labels(&dir.join(f))?, card.classes, path)?)
            }
            None => None,
        };
        let weights = dir.join(&card.weights);
        if card.arch == "torchscript" {
            if card.channels.is_some_and(|c| c != 3) {
                return Err(Error::format(path, "TorchScript modules take 3 channels here"));
            }
            let mut m = Self::load_script(&weights, normalize, None, device)?;
            if let Some(l) = labels {
                m.info.labels = l;
                m.info.classes = card.classes;
            }
            m.info.input_size = input_size;
            m.info.multilabel = card.multilabel.unwrap_or(false);
            return Ok(m);
        }
        let arch = Arch::parse(&card.arch)?;
        let classes = checked_classes(arch, Some(card.classes))?;
        let spec = NativeSpec {
            arch,
            classes,
            labels,
            normalize,
            input_size,
            channels: card.channels,
            multilabel: card.multilabel,
        };
        let mut m = Self::load_native(&spec, &weights, device)?;
        m.info.source = path.display().to_string();
        Ok(m)
    }

    fn load_native(spec: &NativeSpec, weights: &Path, device: Device) -> Result<Self> {
        let arch = spec.arch;
        let in_file = if arch.variable_channels() && weights.is_file() {
            weights::first_conv_channels(weights, arch)?
        } else {
            None
        };
        let channels = match (spec.channels, in_file) {
            (Some(said), Some(found)) if said != found => {
                return Err(Error::format(
                    weights,
                    format!(
                        "the card says {said} input channels but {} takes {found}",
                        arch.first_conv()
                    ),
                ));
            }
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => arch.default_channels(),
        };
        let channels = checked_channels(channels, spec.normalize, weights)?;
        let (mut vs, net) = Net::build(arch, channels, spec.classes, device);
        weights::load_safetensors(&vs, arch, weights)?;
        vs.freeze();
        let mut info = ModelInfo {
            input_size: spec.input_size,
            source: weights.display().to_string(),
            hash: hash::file_hash(weights)?,
            channels,
            ..ModelInfo::native(arch, spec.classes, spec.normalize)
        };
        if let Some(m) = spec.multilabel {
            info.multilabel = m;
        }
        if let Some(labels) = &spec.labels {
            info.labels.clone_from(labels);
        }
        Ok(Self::finish(Backend::Native { vs, net: Box::new(net) }, info, device))
    }

    fn load_random(
        arch: Arch,
        classes: i64,
        normalize: Normalize,
        seed: i64,
        device: Device,
    ) -> Result<Self> {
        let classes = checked_classes(arch, Some(classes))?;
        let channels = checked_channels(arch.default_channels(), normalize, Path::new("random"))?;
        let (mut vs, net) = Net::build(arch, channels, classes, device);
        super::init::seeded_weights(&vs, seed)?;
        vs.freeze();
        let info = ModelInfo {
            source: format!("random {arch} seed {seed}"),
            hash: hash::text_hash(&format!("random:{arch}:{classes}:{seed}")),
            ..ModelInfo::native(arch, classes, normalize)
        };
        Ok(Self::finish(Backend::Native { vs, net: Box::new(net) }, info, device))
    }
}

/// What a native model is said to be, before its weights are read.
struct NativeSpec {
    arch: Arch,
    classes: i64,
    labels: Option<Vec<String>>,
    normalize: Normalize,
    input_size: [i64; 2],
    /// Input channels the card states (checked against the weights).
    channels: Option<i64>,
    /// Multi-label as the card states (default: the architecture's).
    multilabel: Option<bool>,
}

/// Names the card in an error from one of its files, unless the message already does.
fn in_card(card: &Path, e: Error) -> Error {
    if e.to_string().contains(&card.display().to_string()) {
        e
    } else {
        Error::InCard { card: card.to_owned(), source: Box::new(e) }
    }
}

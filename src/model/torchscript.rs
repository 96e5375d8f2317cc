//! TorchScript modules (`CModule`): loaded, probed once for their class count, and run behind
//! the same [`Model`] type; their ReLU calls and layers are out of reach.

use std::path::Path;

use tch::{CModule, Device, Kind, Tensor};

use super::info::{ModelInfo, checked_labels, default_labels};
use super::{Backend, Model, Normalize, card, hash};
use crate::error::{Error, Result};

impl Model {
    /// Loads a TorchScript module; `labels` is a label file, one per class.
    pub(super) fn load_script(
        path: &Path,
        normalize: Normalize,
        labels: Option<&Path>,
        device: Device,
    ) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let mut module = CModule::load_on_device(path, device)
            .map_err(|e| Error::format(path, e.to_string()))?;
        module.f_set_eval()?;
        let bad: Vec<String> = module
            .named_parameters()?
            .into_iter()
            .filter(|(_, t)| !super::all_finite(t))
            .map(|(n, _)| n)
            .collect();
        super::weights::check_none_bad(
            &bad,
            || format!("TorchScript module {}", path.display()),
            "parameters",
        )?;
        let probe = Tensor::zeros([1, 3, 256, 256], (Kind::Float, device));
        let x = match normalize.tensors(device) {
            Some((mean, std)) => (&probe - mean) / std,
            None => probe,
        };
        let out = tch::no_grad(|| module.forward_ts(&[x])).map_err(|e| {
            Error::format(path, format!("forward on a 1×3×256×256 input failed: {e}"))
        })?;
        let size = out.size();
        if size.len() != 2 {
            return Err(Error::format(
                path,
                format!("the module returns shape {size:?}; logits [N, C] expected"),
            ));
        }
        let classes = size[1];
        let labels = match labels {
            Some(p) => checked_labels(card::read_labels(p)?, classes, p)?,
            None => default_labels(None, classes),
        };
        let info = ModelInfo {
            arch: "torchscript".to_owned(),
            classes,
            labels,
            normalize,
            input_size: [256, 256],
            source: path.display().to_string(),
            hash: hash::file_hash(path)?,
            native: false,
            default_layer: String::new(),
            channels: 3,
            multilabel: false,
        };
        Ok(Self::finish(Backend::Script(module), info, device))
    }
}

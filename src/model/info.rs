//! What a loaded model is, in plain data the UI and run files can hold, and the checks of what
//! a model is said to be: class count, labels and input size.

use std::path::Path;

use super::{Arch, Normalize};
use crate::error::{Error, Result};

/// What a loaded model is, in plain data the UI can show.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Architecture name, or `torchscript`.
    pub arch: String,
    /// Number of classes.
    pub classes: i64,
    /// One label per class.
    pub labels: Vec<String>,
    /// Normalisation inside the forward.
    pub normalize: Normalize,
    /// `[height, width]`, each in `1..=8192` (checked when the model loads).
    pub input_size: [i64; 2],
    /// Where it came from (path or description).
    pub source: String,
    /// SHA-256 of the weights file (or of the seed description for random models).
    pub hash: String,
    /// Whether ReLU-rule methods and Grad-CAM are available (native models only).
    pub native: bool,
    /// The default Grad-CAM layer.
    pub default_layer: String,
    /// Input channels: 1 (grayscale models such as torchxrayvision's) or 3.
    pub channels: i64,
    /// Independent sigmoid outputs (pathologies) rather than mutually exclusive classes: CO
    /// weighs the chosen output alone and probabilities are sigmoids (SPEC §10).
    pub multilabel: bool,
}

impl ModelInfo {
    /// A native model of `arch` with default labels, a 256×256 input and no source or hash yet.
    pub(super) fn native(arch: Arch, classes: i64, normalize: Normalize) -> Self {
        Self {
            arch: arch.name().to_owned(),
            classes,
            labels: default_labels(Some(arch), classes),
            normalize,
            input_size: arch.default_input_size(),
            source: String::new(),
            hash: String::new(),
            native: true,
            default_layer: arch.default_layer().to_owned(),
            channels: arch.default_channels(),
            multilabel: arch.is_xrv(),
        }
    }

    /// Output probabilities `[N, C]` from logits: sigmoids for a multi-label model, a softmax
    /// otherwise.
    pub fn probabilities(&self, logits: &tch::Tensor) -> tch::Tensor {
        if self.multilabel { logits.sigmoid() } else { logits.softmax(1, tch::Kind::Float) }
    }

    /// The output index named by `target`: an index, or a label (exact, then ignoring case).
    pub fn output_index(&self, target: &str) -> Result<i64> {
        let t = target.trim();
        if let Ok(i) = t.parse::<i64>() {
            if (0..self.classes).contains(&i) {
                return Ok(i);
            }
            return Err(Error::invalid(format!("output {i} is outside 0..{}", self.classes)));
        }
        let find = |eq: &dyn Fn(&str) -> bool| self.labels.iter().position(|l| eq(l));
        find(&|l| l == t)
            .or_else(|| find(&|l| l.eq_ignore_ascii_case(t)))
            .map(crate::convert::to_i64)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "no output named '{t}'; outputs: {}",
                    self.labels
                        .iter()
                        .filter(|l| !l.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// [`Self::input_size`] as the `[height, width]` images are decoded to.
    pub fn image_size(&self) -> [usize; 2] {
        self.input_size.map(crate::convert::to_usize)
    }
}

/// The labels of a model without a label list: the paper's two classes for its two-class
/// architectures, torchxrayvision's 18 pathologies for its models, `class N` otherwise.
pub(super) fn default_labels(arch: Option<Arch>, classes: i64) -> Vec<String> {
    if classes == 2 && matches!(arch, Some(Arch::Resnet34TwoClass | Arch::AlexnetTwoClass)) {
        return vec!["NORMAL".to_owned(), "PNEUMONIA".to_owned()];
    }
    if classes == 18 && arch.is_some_and(Arch::is_xrv) {
        return super::arch::XRV_PATHOLOGIES.iter().map(|&l| l.to_owned()).collect();
    }
    (0..classes).map(|c| format!("class {c}")).collect()
}

/// `labels`, when there is one per class.
pub(super) fn checked_labels(
    labels: Vec<String>,
    classes: i64,
    origin: &Path,
) -> Result<Vec<String>> {
    hx_formats::card::check_labels(labels, classes)
        .map_err(|e| Error::format(origin, e.to_string()))
}

/// The class count of `arch` (its default when none is given), when the architecture allows it.
pub(super) fn checked_classes(arch: Arch, classes: Option<i64>) -> Result<i64> {
    let c = classes.unwrap_or_else(|| arch.default_classes());
    if let Some(fixed) = arch.fixed_classes()
        && c != fixed
    {
        return Err(Error::invalid(format!("{arch} always has {fixed} classes")));
    }
    if c < 1 {
        return Err(Error::invalid("a model needs at least one class"));
    }
    Ok(c)
}

/// `channels`, when it is 1 or 3 and `normalize` fits it.
pub(super) fn checked_channels(channels: i64, normalize: Normalize, origin: &Path) -> Result<i64> {
    if channels != 1 && channels != 3 {
        return Err(Error::format(
            origin,
            format!("{channels} input channels: a model takes 1 (grayscale) or 3 (RGB)"),
        ));
    }
    if !normalize.fits_channels(channels) {
        return Err(Error::format(
            origin,
            format!(
                "{} normalisation is per RGB channel and cannot apply to a {channels}-channel \
                 model; use xrv or none",
                normalize.name()
            ),
        ));
    }
    Ok(channels)
}

/// `size` (`[height, width]`), when both sides are in `1..=8192`.
pub(super) fn checked_input_size(size: [i64; 2], origin: &Path) -> Result<[i64; 2]> {
    hx_formats::card::check_input_size(size).map_err(|e| Error::format(origin, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let p = Path::new("card.json");
        assert!(checked_input_size([0, 256], p).is_err());
        assert!(checked_input_size([-5, 256], p).is_err());
        assert_eq!(checked_input_size([128, 96], p).ok(), Some([128, 96]));
        assert!(checked_classes(Arch::Resnet34TwoClass, Some(3)).is_err());
        assert!(checked_classes(Arch::Resnet18, Some(0)).is_err());
        assert_eq!(checked_classes(Arch::Resnet18, None).ok(), Some(1000));
        assert!(checked_labels(vec!["a".into()], 2, p).is_err());
        assert_eq!(default_labels(Some(Arch::AlexnetTwoClass), 2)[1], "PNEUMONIA");
        assert_eq!(default_labels(Some(Arch::XrvDensenet121), 18)[8], "Pneumonia");
        assert!(checked_classes(Arch::XrvDensenet121, Some(2)).is_err());
        assert!(checked_channels(1, Normalize::Imagenet, p).is_err());
        assert!(checked_channels(2, Normalize::None, p).is_err());
        assert_eq!(checked_channels(1, Normalize::Xrv, p).ok(), Some(1));
    }

    #[test]
    fn output_index_by_name_or_number() {
        let info = ModelInfo::native(Arch::XrvDensenet121, 18, Normalize::Xrv);
        assert_eq!(info.output_index("Effusion").ok(), Some(7));
        assert_eq!(info.output_index("effusion").ok(), Some(7));
        assert_eq!(info.output_index("3").ok(), Some(3));
        assert!(info.output_index("18").is_err());
        let err = info.output_index("Cough").expect_err("unknown");
        assert!(err.to_string().contains("Lung Opacity"), "{err}");
        assert!(info.multilabel && info.channels == 1);
        let p = info.probabilities(&tch::Tensor::from_slice(&[0.0_f32, 2.0]).view([1, 2]));
        assert_eq!(Vec::<f32>::try_from(p.view([-1])).ok().map(|v| v[0]), Some(0.5));
    }
}

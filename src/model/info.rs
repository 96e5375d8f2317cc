//! What a loaded model is, in plain data the UI and run files can hold, and the checks of what
//! a model is said to be: class count, labels and input size.

use std::path::Path;

use super::{Arch, Normalize};
use crate::error::{Error, Result};

/// The largest input side a model card may ask for.
const MAX_SIDE: i64 = 8192;

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
}

impl ModelInfo {
    /// A native model of `arch` with default labels, a 256×256 input and no source or hash yet.
    pub(super) fn native(arch: Arch, classes: i64, normalize: Normalize) -> Self {
        Self {
            arch: arch.name().to_owned(),
            classes,
            labels: default_labels(Some(arch), classes),
            normalize,
            input_size: [256, 256],
            source: String::new(),
            hash: String::new(),
            native: true,
            default_layer: arch.default_layer().to_owned(),
        }
    }

    /// [`Self::input_size`] as the `[height, width]` images are decoded to.
    pub fn image_size(&self) -> [usize; 2] {
        self.input_size.map(crate::convert::to_usize)
    }
}

/// The labels of a model without a label list: the paper's two classes for its two-class
/// architectures, `class N` otherwise.
pub(super) fn default_labels(arch: Option<Arch>, classes: i64) -> Vec<String> {
    if classes == 2 && matches!(arch, Some(Arch::Resnet34TwoClass | Arch::AlexnetTwoClass)) {
        return vec!["NORMAL".to_owned(), "PNEUMONIA".to_owned()];
    }
    (0..classes).map(|c| format!("class {c}")).collect()
}

/// `labels`, when there is one per class.
pub(super) fn checked_labels(
    labels: Vec<String>,
    classes: i64,
    origin: &Path,
) -> Result<Vec<String>> {
    if i64::try_from(labels.len()).ok() != Some(classes) {
        return Err(Error::format(
            origin,
            format!("{} labels for a model with {classes} classes", labels.len()),
        ));
    }
    Ok(labels)
}

/// The class count of `arch` (its default when none is given), when the architecture allows it.
pub(super) fn checked_classes(arch: Arch, classes: Option<i64>) -> Result<i64> {
    let c = classes.unwrap_or_else(|| arch.default_classes());
    if arch.fixed_classes() && c != 2 {
        return Err(Error::invalid(format!("{arch} always has 2 classes")));
    }
    if c < 1 {
        return Err(Error::invalid("a model needs at least one class"));
    }
    Ok(c)
}

/// `size` (`[height, width]`), when both sides are in `1..=8192`.
pub(super) fn checked_input_size(size: [i64; 2], origin: &Path) -> Result<[i64; 2]> {
    if size.iter().any(|s| !(1..=MAX_SIDE).contains(s)) {
        return Err(Error::format(
            origin,
            format!("input_size {size:?}: each side must be between 1 and {MAX_SIDE}"),
        ));
    }
    Ok(size)
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
    }
}

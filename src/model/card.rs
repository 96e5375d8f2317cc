//! Model cards: the JSON file beside a checkpoint that says what it is and how it was made.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Class labels: inline in the card or a path to a text file with one label per line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Labels {
    /// The labels themselves.
    List(Vec<String>),
    /// A file with one label per line, relative to the card.
    File(PathBuf),
}

/// A model card (`{"arch", "classes", "labels", "normalize", "input_size", "weights"}`, the
/// optional `"channels"` and `"multilabel"` of SPEC §10, plus free-form provenance).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelCard {
    /// Architecture name, e.g. `squeezenet1_1` or `resnet34-2class`.
    pub arch: String,
    /// Number of output classes.
    pub classes: i64,
    /// Class labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// `imagenet` or `none`.
    #[serde(default = "default_normalize")]
    pub normalize: String,
    /// `[height, width]` the model expects.
    #[serde(default = "default_input_size")]
    pub input_size: [i64; 2],
    /// The weights file, relative to the card.
    pub weights: PathBuf,
    /// Input channels, 1 or 3 (absent: what the weights' first convolution takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<i64>,
    /// Independent sigmoid outputs (absent: true for torchxrayvision's architectures only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multilabel: Option<bool>,
    /// Anything else: data, training command, accuracy.
    #[serde(flatten)]
    pub provenance: serde_json::Map<String, serde_json::Value>,
}

fn default_normalize() -> String {
    "imagenet".to_owned()
}

fn default_input_size() -> [i64; 2] {
    [256, 256]
}

impl ModelCard {
    /// Reads a card from `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(path, format!("not a model card: {e}")))
    }

    /// Writes the card as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::format(path, e.to_string()))?;
        crate::io::write_atomic(path, (text + "\n").as_bytes())
    }
}

/// Reads a label file: one label per line, blank lines skipped.
pub fn read_labels(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

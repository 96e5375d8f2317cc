//! Model cards: the JSON file beside a checkpoint that says what it is and how it was made, and
//! the checks on what a card may say that need no model (label count, input size).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The largest input side a model card may ask for.
pub const MAX_SIDE: i64 = 8192;

/// Why a model card or label file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not a model card (bad JSON, a missing or mistyped field).
    #[error("not a model card: {0}")]
    NotACard(String),
    /// The card lists another number of labels than it has classes.
    #[error("{labels} labels for a model with {classes} classes")]
    LabelCount {
        /// Labels given.
        labels: usize,
        /// Classes declared.
        classes: i64,
    },
    /// `input_size` has a side outside `1..=MAX_SIDE`.
    #[error("input_size {0:?}: each side must be between 1 and {MAX_SIDE}")]
    InputSize([i64; 2]),
    /// One of the errors above, in the named file.
    #[error("{path}: {source}")]
    InFile {
        /// The card or label file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<CardError>,
    },
}

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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// Parses a card from its JSON text.
    pub fn parse(text: &str) -> Result<Self, CardError> {
        serde_json::from_str(text).map_err(|e| CardError::NotACard(e.to_string()))
    }

    /// Parses a card from bytes, which must be UTF-8 JSON.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, CardError> {
        serde_json::from_slice(bytes).map_err(|e| CardError::NotACard(e.to_string()))
    }

    /// Reads a card from `path`; a parse error comes as [`CardError::InFile`].
    pub fn read(path: &Path) -> Result<Self, CardError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CardError::Io { path: path.to_owned(), source: e })?;
        Self::parse(&text)
            .map_err(|e| CardError::InFile { path: path.to_owned(), source: Box::new(e) })
    }

    /// The card as pretty JSON, ending in a newline.
    pub fn to_json(&self) -> Result<String, CardError> {
        serde_json::to_string_pretty(self)
            .map(|t| t + "\n")
            .map_err(|e| CardError::NotACard(e.to_string()))
    }
}

/// Parses a label file's text: one label per line, trimmed, blank lines skipped.
pub fn parse_labels(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Reads a label file (see [`parse_labels`]).
pub fn read_labels(path: &Path) -> Result<Vec<String>, CardError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CardError::Io { path: path.to_owned(), source: e })?;
    Ok(parse_labels(&text))
}

/// `labels`, when there is one per class.
pub fn check_labels(labels: Vec<String>, classes: i64) -> Result<Vec<String>, CardError> {
    if i64::try_from(labels.len()).ok() != Some(classes) {
        return Err(CardError::LabelCount { labels: labels.len(), classes });
    }
    Ok(labels)
}

/// `size` (`[height, width]`), when both sides are in `1..=MAX_SIDE`.
pub fn check_input_size(size: [i64; 2]) -> Result<[i64; 2], CardError> {
    if size.iter().any(|s| !(1..=MAX_SIDE).contains(s)) {
        return Err(CardError::InputSize(size));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_card_gets_the_defaults() {
        let c = ModelCard::parse(r#"{"arch": "squeezenet1_1", "classes": 2, "weights": "w"}"#)
            .expect("card");
        assert_eq!(c.normalize, "imagenet");
        assert_eq!(c.input_size, [256, 256]);
        assert!(c.provenance.is_empty());
        let again = ModelCard::parse(&c.to_json().expect("json")).expect("again");
        assert_eq!(again, c);
    }

    #[test]
    fn checks_name_what_is_wrong() {
        let e = check_labels(vec!["a".into()], 2).expect_err("count");
        assert_eq!(e.to_string(), "1 labels for a model with 2 classes");
        let e = check_input_size([0, 9000]).expect_err("size");
        assert_eq!(e.to_string(), "input_size [0, 9000]: each side must be between 1 and 8192");
        assert!(ModelCard::parse("{").is_err());
        assert_eq!(parse_labels(" a \n\n b\n"), ["a", "b"]);
    }
}

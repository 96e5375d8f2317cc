//! Model cards: the JSON file beside a checkpoint that says what it is and how it was made.
//! Parsing lives in `hx_formats::card` (fuzzed without libtorch); this module adds the crate's
//! error type and atomic writing.

use std::path::Path;

pub use hx_formats::card::{CardError, Labels, ModelCard};

use crate::error::{Error, Result};

impl From<CardError> for Error {
    fn from(e: CardError) -> Self {
        match e {
            CardError::Io { path, source } => Error::io(path, source),
            CardError::InFile { path, source } => Error::format(path, source.to_string()),
            other => Error::invalid(other.to_string()),
        }
    }
}

/// Writing a model card (its parsing is `ModelCard::read`/`ModelCard::parse`).
pub trait WriteCard {
    /// Writes the card as pretty JSON, atomically.
    fn write(&self, path: &Path) -> Result<()>;
}

impl WriteCard for ModelCard {
    fn write(&self, path: &Path) -> Result<()> {
        let text = self.to_json().map_err(|e| Error::format(path, e.to_string()))?;
        crate::io::write_atomic(path, text.as_bytes())
    }
}

/// Reads a label file: one label per line, blank lines skipped.
pub fn read_labels(path: &Path) -> Result<Vec<String>> {
    Ok(hx_formats::card::read_labels(path)?)
}

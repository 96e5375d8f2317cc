//! The library's typed error and result alias.

use std::path::PathBuf;

/// Everything that can go wrong inside the library. The binary turns it into one stderr line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A libtorch call failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An image could not be decoded or encoded.
    #[error("image {path}: {message}")]
    Image {
        /// The file involved.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A weights file does not fit the architecture.
    #[error("weights {path} do not fit {arch}:{details}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// The architecture name.
        arch: String,
        /// Missing, unexpected and mis-shaped tensors, one per line.
        details: String,
    },
    /// The user asked for something that is not valid (unknown name, bad value, unsupported
    /// combination).
    #[error("{0}")]
    Invalid(String),
    /// A file has the wrong format.
    #[error("{path}: {message}")]
    Format {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file holds results of another run than the one asked for.
    #[error("{path}: {message}")]
    Mismatch {
        /// The file involved.
        path: PathBuf,
        /// What differs, and what to do.
        message: String,
    },
    /// NaN or infinite values where numbers must be finite (weights, logits, heatmaps).
    #[error("NaN or infinite values in {0}")]
    NonFinite(String),
    /// An error inside a model card's files, with the card named.
    #[error("model card {card}: {source}")]
    InCard {
        /// The card.
        card: PathBuf,
        /// What went wrong in it.
        source: Box<Error>,
    },
    /// Out of memory, injected by the tests' fault hook (`crate::io::fault`): stands for a GPU
    /// running out of memory, on whatever device the job runs.
    #[error("out of memory (injected by {var} at {0})", var = crate::io::FAULT_VAR)]
    InjectedOutOfMemory(String),
    /// The worker thread has gone away.
    #[error("the worker thread has stopped")]
    WorkerGone,
    /// A job was cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// An [`Error::Invalid`] with the given message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// Whether this is libtorch running out of memory (CUDA or CPU allocator): the caller may
    /// retry with less work at once or on another device.
    pub fn is_out_of_memory(&self) -> bool {
        match self {
            Self::Torch(e) => {
                let m = e.to_string();
                m.contains("out of memory") || m.contains("not enough memory")
            }
            Self::InjectedOutOfMemory(_) => true,
            Self::InCard { source, .. } => source.is_out_of_memory(),
            _ => false,
        }
    }

    /// An [`Error::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Format { path: path.into(), message: message.into() }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The decoders' typed error.

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not in a format this crate reads.
    #[error("unrecognised image format")]
    UnknownFormat,
    /// The declared size is larger than the decoder accepts (a guard against decompression
    /// bombs); nothing of that size was allocated.
    #[error(
        "declared size {width}×{height} is larger than the {limit} pixels this program accepts"
    )]
    TooLarge {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// The most pixels accepted.
        limit: u64,
    },
    /// The image has no pixels.
    #[error("the image is empty ({width}×{height})")]
    Empty {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
    },
    /// A pixel format or feature this program does not read.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The file is truncated or corrupt.
    #[error("corrupt or truncated: {0}")]
    Corrupt(String),
    /// A DICOM file whose pixel data is compressed with a transfer syntax this program does not
    /// decode (JPEG-LS, 12-bit JPEG extended, ...).
    #[error("DICOM transfer syntax {name} ({uid}) is not supported: {why}")]
    TransferSyntax {
        /// The transfer syntax's name.
        name: String,
        /// Its UID.
        uid: String,
        /// Why it cannot be decoded.
        why: String,
    },
    /// A frame number past the file's last frame.
    #[error("frame {frame} does not exist: the file has {frames} frame(s), numbered from 0")]
    FrameOutOfRange {
        /// The frame asked for (0-based).
        frame: usize,
        /// Frames in the file.
        frames: usize,
    },
    /// A VOI window that cannot be applied or parsed.
    #[error("window: {0}")]
    Window(String),
}

/// Result of a decoder.
pub type DecodeResult<T> = Result<T, DecodeError>;

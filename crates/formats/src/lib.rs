//! heatmap-explorer's decoders and file readers: bytes in, plain data out, no libtorch.
//!
//! Everything here is pure Rust so that the fuzz targets and GUI-free tools can build it alone,
//! quickly and under a sanitizer. The main crate resizes and turns the results into tensors.

pub mod card;
pub mod dicom;
pub mod error;
pub mod invariants;
pub mod raster;
pub mod review;
pub mod runfile;

pub use dicom::{DicomFile, Window};
pub use error::{DecodeError, DecodeResult};
pub use raster::{Raster, decode_image};

//! What [`super::DicomFile`] tells its users: the non-identifying facts and the window used.

use super::attrs::SpacingSource;

/// What a file says about its image, without identifiers (SPEC §9).
#[derive(Debug, Clone, PartialEq)]
pub struct DicomFacts {
    /// Modality (0008,0060), e.g. CR, DX, CT.
    pub modality: Option<String>,
    /// Body Part Examined (0018,0015).
    pub body_part: Option<String>,
    /// View Position (0018,5101), e.g. PA, AP.
    pub view: Option<String>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Number of frames (1 when absent).
    pub frames: usize,
    /// Samples per pixel (1 grayscale, 3 colour).
    pub samples_per_pixel: usize,
    /// Bits Allocated.
    pub bits_allocated: u16,
    /// Bits Stored.
    pub bits_stored: u16,
    /// Pixel Representation 1 (signed samples).
    pub signed: bool,
    /// Photometric Interpretation as in the file.
    pub photometric: String,
    /// Transfer syntax name.
    pub transfer_syntax: String,
    /// Transfer syntax UID.
    pub transfer_syntax_uid: String,
    /// `[row, column]` spacing in millimetres; None when absent or zero.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Which attribute the spacing came from.
    pub spacing_source: Option<SpacingSource>,
}

/// The VOI that [`DicomFile::render`] applied.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowUsed {
    /// The file's preset number `index` (see [`DicomFile::presets`]).
    Preset {
        /// Index into the presets.
        index: usize,
    },
    /// A custom LINEAR center/width.
    Custom {
        /// Window center.
        center: f64,
        /// Window width.
        width: f64,
    },
    /// A value range: `auto` (percentile None) or `pP`.
    Range {
        /// The percentile P, None for min–max.
        percentile: Option<f64>,
        /// The modality value shown black (before any inversion).
        low: f64,
        /// The modality value shown white (before any inversion).
        high: f64,
    },
    /// Colour images are not windowed.
    None,
}

//! One frame's pixel bytes: RLE through [`super::rle`], everything else through dicom-rs with
//! its panics caught.

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::{PixelDecoder, PlanarConfiguration};

use super::facts::DicomFacts;
use super::rle;
use crate::error::{DecodeError, DecodeResult};

/// RLE Lossless, decoded by [`rle`].
pub(super) const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// Runs a dicom-rs call, turning a panic inside it (some of its codecs index corrupt data
/// unchecked) into an error.
pub(super) fn guarded<T>(what: &str, f: impl FnOnce() -> DecodeResult<T>) -> DecodeResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(DecodeError::Corrupt(format!("{what}: the decoder failed on corrupt data")))
    })
}

/// One frame's decoded bytes (interleaved unless planar) and whether they are planar.
pub(super) fn frame_bytes(
    obj: &DefaultDicomObject,
    f: &DicomFacts,
    frame: usize,
) -> DecodeResult<(Vec<u8>, bool)> {
    if f.transfer_syntax_uid == RLE_LOSSLESS {
        let data = rle_fragment(obj, f.frames, frame)?;
        let bytes_per_sample = usize::from(f.bits_allocated.div_ceil(8));
        let pixels = f.rows * f.columns;
        return Ok((
            rle::decode_frame(&data, pixels, f.samples_per_pixel, bytes_per_sample)?,
            false,
        ));
    }
    let corrupt =
        |e: dicom_pixeldata::Error| DecodeError::Corrupt(format!("DICOM pixel data: {e}"));
    let index = u32::try_from(frame)
        .map_err(|_| DecodeError::FrameOutOfRange { frame, frames: f.frames })?;
    guarded("DICOM pixel data", || {
        let decoded = if f.frames == 1 {
            obj.decode_pixel_data().map_err(corrupt)?
        } else {
            obj.decode_pixel_data_frame(index).map_err(corrupt)?
        };
        let planar = f.samples_per_pixel > 1
            && decoded.planar_configuration() == PlanarConfiguration::PixelFirst;
        Ok((decoded.frame_data(0).map_err(corrupt)?.to_vec(), planar))
    })
}

/// The RLE data of one frame: its fragment, or its fragments joined (by the basic offset
/// table, or all of them for a single frame).
fn rle_fragment(obj: &DefaultDicomObject, frames: usize, frame: usize) -> DecodeResult<Vec<u8>> {
    let bad = |why: &str| DecodeError::Corrupt(format!("RLE: {why}"));
    let value = obj.get(tags::PIXEL_DATA).map(|e| e.value()).ok_or_else(|| bad("no pixel data"))?;
    let fragments = value.fragments().ok_or_else(|| bad("pixel data is not encapsulated"))?;
    if fragments.len() == frames {
        return fragments.get(frame).cloned().ok_or_else(|| bad("missing fragment"));
    }
    if frames == 1 {
        return Ok(fragments.concat());
    }
    // Fragment start positions (each fragment carries an 8-byte item header).
    let table = value.offset_table().unwrap_or_default();
    if table.len() != frames {
        return Err(bad(&format!(
            "{} fragments for {frames} frames and no usable offset table",
            fragments.len()
        )));
    }
    let (start, end) =
        (u64::from(table[frame]), table.get(frame + 1).map_or(u64::MAX, |&e| u64::from(e)));
    let mut pos = 0_u64;
    let mut out = Vec::new();
    for frag in fragments {
        if pos >= start && pos < end {
            out.extend_from_slice(frag);
        }
        pos += 8 + frag.len() as u64;
    }
    Ok(out)
}

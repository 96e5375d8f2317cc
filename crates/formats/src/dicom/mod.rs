//! DICOM files (dicom-rs, pure Rust codecs only): the pixel pipeline of SPEC §9 done here in
//! f64 from the stored values, so that it equals pydicom 3.0.2's `apply_modality_lut` then
//! `apply_voi_lut(prefer_lut=True)`, normalised to [0, 1] and inverted for MONOCHROME1.
//!
//! [`DicomFile::open`] parses the file and decodes frame 0; [`DicomFile::render`] applies a
//! [`Window`] to any frame. Only non-identifying facts are exposed as fields
//! ([`DicomFacts`]); the full header is listed on request ([`DicomFile::header`]) for display.

mod attrs;
mod facts;
mod frames;
mod lut;
mod pixels;
mod rle;
mod scan;
mod window;

use std::io::Cursor;
use std::sync::{Arc, Mutex, PoisonError};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions, file::ReadPreamble};
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};

pub use attrs::{HeaderEntry, Preset, PresetKind, SpacingSource};
pub use facts::{DicomFacts, WindowUsed};
pub use lut::{Lut, Modality, Voi, percentile};
pub use window::{VoiFunction, Window};

use crate::error::{DecodeError, DecodeResult};
use crate::raster::{MAX_PIXELS, Raster};

/// The 12-bit-capable JPEG Extended transfer syntax (processes 2 and 4).
const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";

/// Whether `bytes` look like a DICOM Part 10 file (`DICM` at byte 128, or at byte 0 for a file
/// without its preamble).
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM") || bytes.get(..4) == Some(b"DICM")
}

/// A parsed DICOM file: facts, presets and the pixel pipeline. Frames are decoded on demand;
/// the modality values of the last one rendered are kept.
#[derive(Debug)]
pub struct DicomFile {
    obj: DefaultDicomObject,
    facts: DicomFacts,
    presets: Vec<Preset>,
    modality: Modality,
    inverted: bool,
    ybr: bool,
    cache: Mutex<Option<(usize, Arc<Vec<f64>>)>>,
}

fn parse(bytes: &[u8]) -> DecodeResult<DefaultDicomObject> {
    let body = if bytes.get(128..132) == Some(b"DICM") {
        &bytes[128..]
    } else if bytes.get(..4) == Some(b"DICM") {
        bytes
    } else {
        return Err(DecodeError::Unsupported(
            "a DICOM file without the Part 10 header ('DICM' at byte 128)".into(),
        ));
    };
    scan::check_lengths(body)?;
    frames::guarded("DICOM", || scan::check_value_lengths(body))?;
    frames::guarded("DICOM", || {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .from_reader(Cursor::new(body))
            .map_err(|e| DecodeError::Corrupt(format!("DICOM: {e}")))
    })
}

/// Native (uncompressed) pixel data must hold every frame: rows × columns × samples × bits
/// allocated × frames bits. A shorter element is refused here with both sizes named (dicom-rs
/// would only say that a frame is out of range).
fn native_length_fits(obj: &DefaultDicomObject, f: &DicomFacts) -> DecodeResult<()> {
    let Some(value) = obj.get(tags::PIXEL_DATA).and_then(|e| e.value().primitive()) else {
        return Ok(());
    };
    let have = value.calculate_byte_len() as u64;
    let bits = [f.rows, f.columns, f.samples_per_pixel, f.frames]
        .iter()
        .fold(u64::from(f.bits_allocated), |acc, &n| acc.saturating_mul(n as u64));
    let need = bits.div_ceil(8);
    if have < need {
        return Err(DecodeError::Corrupt(format!(
            "DICOM pixel data hold {have} bytes, {need} needed for {} frame(s) of {}×{} at {} \
             bits",
            f.frames, f.columns, f.rows, f.bits_allocated
        )));
    }
    Ok(())
}

fn required(obj: &DefaultDicomObject, tag: dicom_core::Tag, name: &str) -> DecodeResult<i64> {
    attrs::int(obj, tag).ok_or_else(|| DecodeError::Corrupt(format!("DICOM: no valid {name}")))
}

fn small(v: i64, what: &str) -> DecodeResult<u16> {
    u16::try_from(v).map_err(|_| DecodeError::Corrupt(format!("DICOM: {what} {v}")))
}

impl DicomFile {
    /// Parses a DICOM Part 10 file and decodes its first frame. Refuses, with the syntax named,
    /// transfer syntaxes without a pure-Rust decoder (JPEG-LS, 12-bit JPEG extended, ...).
    pub fn open(bytes: &[u8]) -> DecodeResult<Self> {
        let obj = parse(bytes)?;
        let uid = obj.meta().transfer_syntax().trim_end_matches('\0').to_owned();
        let ts = TransferSyntaxRegistry.get(&uid);
        let ts_name = ts.map_or_else(|| "unknown".to_owned(), |t| t.name().to_owned());
        let refuse = |why: &str| DecodeError::TransferSyntax {
            name: ts_name.clone(),
            uid: uid.clone(),
            why: why.to_owned(),
        };
        match ts {
            None => return Err(refuse("not a known transfer syntax")),
            Some(t) if !t.can_decode_all() => {
                return Err(refuse(
                    "no pure-Rust decoder is built in (convert the file, e.g. with `gdcmconv --raw`)",
                ));
            }
            Some(_) => {}
        }
        if obj.get(tags::PIXEL_DATA).is_none() {
            return Err(DecodeError::Unsupported("a DICOM file without pixel data".into()));
        }
        let rows = usize::from(small(required(&obj, tags::ROWS, "Rows")?, "rows")?);
        let columns = usize::from(small(required(&obj, tags::COLUMNS, "Columns")?, "columns")?);
        let bits_allocated =
            small(required(&obj, tags::BITS_ALLOCATED, "Bits Allocated")?, "bits allocated")?;
        let bits_stored = attrs::int(&obj, tags::BITS_STORED)
            .map_or(Ok(bits_allocated), |b| small(b, "bits stored"))?;
        let samples = usize::from(
            attrs::int(&obj, tags::SAMPLES_PER_PIXEL)
                .map_or(Ok(1), |s| small(s, "samples per pixel"))?,
        );
        let frames = attrs::int(&obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
        let frames = usize::try_from(frames).map_err(|_| DecodeError::Corrupt("frames".into()))?;
        let (w, h) = (columns as u64, rows as u64);
        if w == 0 || h == 0 {
            return Err(DecodeError::Empty { width: w, height: h });
        }
        if w * h > MAX_PIXELS {
            return Err(DecodeError::TooLarge { width: w, height: h, limit: MAX_PIXELS });
        }
        if uid == JPEG_EXTENDED && bits_stored > 8 {
            return Err(refuse(&format!(
                "{bits_stored}-bit JPEG extended has no pure-Rust decoder"
            )));
        }
        let photometric = attrs::text(&obj, tags::PHOTOMETRIC_INTERPRETATION)
            .unwrap_or_else(|| "MONOCHROME2".into());
        let gray = samples == 1 && photometric.starts_with("MONOCHROME");
        let colour = samples == 3
            && matches!(
                photometric.as_str(),
                "RGB" | "YBR_FULL" | "YBR_FULL_422" | "YBR_ICT" | "YBR_RCT"
            );
        if !gray && !colour {
            return Err(DecodeError::Unsupported(format!(
                "photometric interpretation {photometric} with {samples} sample(s) per pixel"
            )));
        }
        let signed = attrs::int(&obj, tags::PIXEL_REPRESENTATION) == Some(1);
        let spacing = attrs::spacing(&obj);
        let facts = DicomFacts {
            modality: attrs::text(&obj, tags::MODALITY),
            body_part: attrs::text(&obj, tags::BODY_PART_EXAMINED),
            view: attrs::text(&obj, tags::VIEW_POSITION),
            rows,
            columns,
            frames,
            samples_per_pixel: samples,
            bits_allocated,
            bits_stored,
            signed,
            photometric: photometric.clone(),
            transfer_syntax: ts_name.clone(),
            transfer_syntax_uid: uid.clone(),
            pixel_spacing: spacing.map(|s| s.0),
            spacing_source: spacing.map(|s| s.1),
        };
        let (presets, modality, inverted) = if gray {
            (
                attrs::presets(&obj)?,
                attrs::modality(&obj, signed)?,
                attrs::inverted(&obj, &photometric),
            )
        } else {
            (Vec::new(), Modality::Identity, false)
        };
        // Colour from the JPEG and JPEG 2000 codecs is RGB already; native and RLE data keep
        // their colour space, and YBR_FULL is converted here.
        let encapsulated = ts.is_some_and(|t| t.is_encapsulated_pixel_data());
        let ybr = colour && (!encapsulated || uid == frames::RLE_LOSSLESS) && photometric != "RGB";
        if ybr && photometric != "YBR_FULL" {
            return Err(DecodeError::Unsupported(format!("uncompressed {photometric}")));
        }
        if !encapsulated {
            native_length_fits(&obj, &facts)?;
        }
        let file = Self { obj, facts, presets, modality, inverted, ybr, cache: Mutex::new(None) };
        file.values(0)?;
        Ok(file)
    }

    /// The non-identifying facts.
    pub fn facts(&self) -> &DicomFacts {
        &self.facts
    }

    /// The file's VOI presets: VOI LUT Sequence items, then window center/width pairs.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// The modality step (rescale, Modality LUT or identity).
    pub fn modality(&self) -> &Modality {
        &self.modality
    }

    /// Whether rendering inverts (MONOCHROME1, or Presentation LUT Shape INVERSE).
    pub fn inverted(&self) -> bool {
        self.inverted
    }

    /// Whether the image is colour (3 samples per pixel; rendered as RGB, never windowed).
    pub fn is_colour(&self) -> bool {
        self.facts.samples_per_pixel == 3
    }

    /// Every attribute as text, nested sequences indented, for a "show header" view. It
    /// includes identifiers (patient name, ID, ...): display it, never write it out.
    pub fn header(&self) -> Vec<HeaderEntry> {
        let m = self.obj.meta();
        let mut out = vec![
            meta_entry(0x0002, "MediaStorageSOPClassUID", &m.media_storage_sop_class_uid),
            meta_entry(0x0010, "TransferSyntaxUID", &m.transfer_syntax),
            meta_entry(0x0012, "ImplementationClassUID", &m.implementation_class_uid),
        ];
        attrs::header(&self.obj, 0, &mut out);
        out
    }

    /// The modality values of `frame` (0-based) as `rows · columns` values (grayscale), or the
    /// stored sample planes `[3, rows · columns]` (colour, YBR converted to RGB).
    pub fn values(&self, frame: usize) -> DecodeResult<Arc<Vec<f64>>> {
        let frames = self.facts.frames;
        if frame >= frames {
            return Err(DecodeError::FrameOutOfRange { frame, frames });
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((f, v)) = cache.as_ref()
            && *f == frame
        {
            return Ok(Arc::clone(v));
        }
        let v = Arc::new(self.decode(frame)?);
        *cache = Some((frame, Arc::clone(&v)));
        Ok(v)
    }

    fn decode(&self, frame: usize) -> DecodeResult<Vec<f64>> {
        let (bytes, planar) = frames::frame_bytes(&self.obj, &self.facts, frame)?;
        let f = &self.facts;
        let layout = pixels::Layout {
            rows: f.rows,
            columns: f.columns,
            samples: f.samples_per_pixel,
            bits_allocated: f.bits_allocated,
            bits_stored: f.bits_stored,
            signed: f.signed,
            planar,
        };
        let mut v = pixels::samples(&bytes, layout)?;
        if self.is_colour() {
            if self.ybr {
                pixels::ybr_full_to_rgb(&mut v);
            }
        } else if self.modality != Modality::Identity {
            for x in &mut v {
                *x = self.modality.apply(*x);
            }
        }
        Ok(v)
    }

    /// The VOI that `window` means for `frame`, and what to report about it.
    pub fn resolve(&self, frame: usize, window: &Window) -> DecodeResult<(Voi, WindowUsed)> {
        let preset = |index: usize| -> DecodeResult<(Voi, WindowUsed)> {
            let p = self.presets.get(index).ok_or_else(|| {
                DecodeError::Window(match self.presets.len() {
                    0 => format!(
                        "file:{index}: the file has no window presets (use auto, pP or C,W)"
                    ),
                    n => format!(
                        "file:{index}: the file has {n} preset(s), file:0 to file:{}",
                        n - 1
                    ),
                })
            })?;
            Ok((p.voi(), WindowUsed::Preset { index }))
        };
        let range = |p: Option<f64>| -> DecodeResult<(Voi, WindowUsed)> {
            let values = self.values(frame)?;
            let (low, high) = match p {
                None => values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                }),
                Some(p) => {
                    let mut copy = values.to_vec();
                    (percentile(&mut copy, p), percentile(&mut copy, 100.0 - p))
                }
            };
            Ok((Voi::Range { low, high }, WindowUsed::Range { percentile: p, low, high }))
        };
        match *window {
            Window::File if self.presets.is_empty() => range(None),
            Window::File => preset(0),
            Window::FileN(n) => preset(n),
            Window::Custom { center, width } => {
                Window::custom(center, width)?;
                Ok((
                    Voi::Window { center, width, function: VoiFunction::Linear },
                    WindowUsed::Custom { center, width },
                ))
            }
            Window::Auto => range(None),
            Window::Percentile(p) => {
                Window::percentile(p)?;
                range(Some(p))
            }
        }
    }

    /// `frame` through the VOI `window` (ignored for colour): a [0, 1] raster, 1 channel
    /// (grayscale, inverted for MONOCHROME1) or 3 (RGB).
    pub fn render(&self, frame: usize, window: &Window) -> DecodeResult<Raster> {
        self.render_detailed(frame, window).map(|(r, _)| r)
    }

    /// [`render`](Self::render), also saying which VOI was applied.
    pub fn render_detailed(
        &self,
        frame: usize,
        window: &Window,
    ) -> DecodeResult<(Raster, WindowUsed)> {
        let values = self.values(frame)?;
        let f = &self.facts;
        let (width, height) = (f.columns, f.rows);
        if self.is_colour() {
            let max = 2f64.powi(i32::from(f.bits_stored.clamp(1, 32))) - 1.0;
            // Samples over their maximum, rounded once to f32.
            #[allow(clippy::cast_possible_truncation)]
            let data = values.iter().map(|&v| (v / max) as f32).collect();
            let bits = u8::try_from(f.bits_stored).unwrap_or(32);
            return Ok((Raster { width, height, channels: 3, bits, data }, WindowUsed::None));
        }
        let (voi, used) = self.resolve(frame, window)?;
        let invert = self.inverted;
        // The pipeline runs in f64; the result is rounded once to f32.
        #[allow(clippy::cast_possible_truncation)]
        let data = values
            .iter()
            .map(|&v| {
                let y = voi.apply(v);
                (if invert { 1.0 - y } else { y }) as f32
            })
            .collect();
        let bits = u8::try_from(f.bits_stored).unwrap_or(32);
        Ok((Raster { width, height, channels: 1, bits, data }, used))
    }
}

fn meta_entry(element: u16, name: &str, value: &str) -> HeaderEntry {
    HeaderEntry {
        depth: 0,
        tag: (0x0002, element),
        name: name.to_owned(),
        vr: "UI".to_owned(),
        value: value.trim_end_matches('\0').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_plain_data_for_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<DicomFile>();
    }

    #[test]
    fn non_dicom_bytes_are_refused() {
        assert!(!is_dicom(b"\x89PNG\r\n"));
        let e = DicomFile::open(b"not dicom").expect_err("no magic");
        assert!(e.to_string().contains("Part 10"), "{e}");
        let mut fake = vec![0_u8; 140];
        fake[128..132].copy_from_slice(b"DICM");
        assert!(is_dicom(&fake));
        assert!(matches!(DicomFile::open(&fake), Err(DecodeError::Corrupt(_))));
    }
}

//! Reading the attributes the pixel pipeline needs (windows, LUTs, rescale, photometric
//! interpretation) and the non-identifying facts a user sees, from a parsed DICOM data set.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::{Tag, VR, header::Header};
use dicom_dictionary_std::{StandardDataDictionary, tags};
use dicom_object::InMemDicomObject;

use super::lut::{Lut, Modality, Voi};
use super::window::VoiFunction;
use crate::error::{DecodeError, DecodeResult};

/// One VOI preset of a file: a VOI LUT Sequence item or a window center/width pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// What it does.
    pub kind: PresetKind,
    /// Its explanation in the file (Window Center & Width Explanation or LUT Explanation).
    pub explanation: Option<String>,
}

/// The two kinds of file presets.
#[derive(Debug, Clone, PartialEq)]
pub enum PresetKind {
    /// A window center/width with its VOI LUT Function.
    Window {
        /// Window Center (0028,1050).
        center: f64,
        /// Window Width (0028,1051).
        width: f64,
        /// VOI LUT Function (0028,1056), LINEAR when absent.
        function: VoiFunction,
    },
    /// An item of the VOI LUT Sequence (0028,3010).
    Lut(Lut),
}

impl Preset {
    /// The VOI step this preset applies.
    pub fn voi(&self) -> Voi {
        match &self.kind {
            PresetKind::Window { center, width, function } => {
                Voi::Window { center: *center, width: *width, function: *function }
            }
            PresetKind::Lut(l) => Voi::Lut(l.clone()),
        }
    }

    /// A short label, e.g. `C 40 W 400 LINEAR (SOFT TISSUE)` or `VOI LUT 4096 entries`.
    pub fn label(&self) -> String {
        let base = match &self.kind {
            PresetKind::Window { center, width, function } => {
                format!("C {center} W {width} {}", function.name())
            }
            PresetKind::Lut(l) => format!("VOI LUT {} entries", l.data.len()),
        };
        match &self.explanation {
            Some(e) => format!("{base} ({e})"),
            None => base,
        }
    }
}

/// One header line for a "show header" view (it may hold identifiers: display only).
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderEntry {
    /// Nesting depth (0 for top-level attributes, 1 inside a sequence item, ...).
    pub depth: usize,
    /// Group and element.
    pub tag: (u16, u16),
    /// Keyword from the standard dictionary (empty for private or unknown tags).
    pub name: String,
    /// Value representation.
    pub vr: String,
    /// The value as text, shortened; binary values as their length.
    pub value: String,
}

/// Where [`super::DicomFacts::pixel_spacing`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpacingSource {
    /// Pixel Spacing (0028,0030): in the patient.
    PixelSpacing,
    /// Imager Pixel Spacing (0018,1164): at the detector (CR/DX without Pixel Spacing).
    ImagerPixelSpacing,
}

pub(crate) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let e = obj.get(tag)?;
    let s = e.to_str().ok()?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_owned())
}

fn texts(obj: &InMemDicomObject, tag: Tag) -> Vec<String> {
    obj.get(tag)
        .and_then(|e| e.to_multi_str().ok())
        .map(|v| {
            v.iter()
                .map(|s| s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn floats(obj: &InMemDicomObject, tag: Tag) -> Vec<f64> {
    obj.get(tag).and_then(|e| e.to_multi_float64().ok()).unwrap_or_default()
}

pub(crate) fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.get(tag).and_then(|e| e.to_int::<i64>().ok())
}

fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or_default()
}

/// The LUT of a Modality or VOI LUT Sequence item. `signed_first`: read a US first-mapped
/// value above 32767 as negative (the Modality LUT of signed pixels, PS3.3 C.11.1.1.1).
fn read_lut(item: &InMemDicomObject, signed_first: bool) -> DecodeResult<Lut> {
    let bad = |why: &str| DecodeError::Corrupt(format!("LUT: {why}"));
    let desc = item.get(tags::LUT_DESCRIPTOR).ok_or_else(|| bad("no LUT Descriptor"))?;
    let d: Vec<i64> = desc.to_multi_int().map_err(|e| bad(&e.to_string()))?;
    let [entries, first, bits] = d[..] else { return Err(bad("the descriptor needs 3 values")) };
    let entries = if entries == 0 { 65536 } else { entries };
    let first =
        if signed_first && desc.vr() != VR::SS && first > 32767 { first - 65536 } else { first };
    let bits = u32::try_from(bits)
        .ok()
        .filter(|b| (1..=16).contains(b))
        .ok_or_else(|| bad("bit depth outside 1..16"))?;
    let el = item.get(tags::LUT_DATA).ok_or_else(|| bad("no LUT Data"))?;
    let mut data: Vec<u32> = match el.value() {
        Value::Primitive(PrimitiveValue::U8(b)) => {
            b.chunks_exact(2).map(|w| u32::from(u16::from_le_bytes([w[0], w[1]]))).collect()
        }
        _ => el.to_multi_int().map_err(|e| bad(&e.to_string()))?,
    };
    let n = usize::try_from(entries).map_err(|_| bad("negative entry count"))?;
    if data.len() < n {
        return Err(bad(&format!("{} entries, the descriptor says {n}", data.len())));
    }
    data.truncate(n);
    Ok(Lut { first, bits, data })
}

/// The modality step as pydicom's `apply_modality_lut` chooses it: the first Modality LUT
/// Sequence item, else rescale when both slope and intercept are present, else identity.
pub(crate) fn modality(obj: &InMemDicomObject, signed: bool) -> DecodeResult<Modality> {
    if let Some(item) = items(obj, tags::MODALITY_LUT_SEQUENCE).first() {
        return Ok(Modality::Lut(read_lut(item, signed)?));
    }
    match (floats(obj, tags::RESCALE_SLOPE).first(), floats(obj, tags::RESCALE_INTERCEPT).first()) {
        (Some(&slope), Some(&intercept)) if slope.is_finite() && intercept.is_finite() => {
            Ok(Modality::Rescale { slope, intercept })
        }
        _ => Ok(Modality::Identity),
    }
}

/// The file's VOI presets: VOI LUT Sequence items first, then window center/width pairs.
/// Windows that cannot be applied (an unknown function, a width pydicom refuses) are left out.
pub(crate) fn presets(obj: &InMemDicomObject) -> DecodeResult<Vec<Preset>> {
    let mut out = Vec::new();
    for item in items(obj, tags::VOILUT_SEQUENCE) {
        let lut = read_lut(item, false)?;
        out.push(Preset {
            kind: PresetKind::Lut(lut),
            explanation: text(item, tags::LUT_EXPLANATION),
        });
    }
    let function = match text(obj, tags::VOILUT_FUNCTION) {
        None => Some(VoiFunction::Linear),
        Some(f) => VoiFunction::parse(&f),
    };
    let Some(function) = function else { return Ok(out) };
    let centers = floats(obj, tags::WINDOW_CENTER);
    let widths = floats(obj, tags::WINDOW_WIDTH);
    let explanations = texts(obj, tags::WINDOW_CENTER_WIDTH_EXPLANATION);
    for (i, (&center, &width)) in centers.iter().zip(&widths).enumerate() {
        if center.is_finite() && function.accepts_width(width) {
            let explanation = explanations.get(i).filter(|e| !e.is_empty()).cloned();
            out.push(Preset { kind: PresetKind::Window { center, width, function }, explanation });
        }
    }
    Ok(out)
}

/// Whether the VOI output is inverted, as DCMTK decides it: Presentation LUT Shape INVERSE
/// inverts and IDENTITY does not; without one, MONOCHROME1 inverts.
pub(crate) fn inverted(obj: &InMemDicomObject, photometric: &str) -> bool {
    match text(obj, tags::PRESENTATION_LUT_SHAPE).as_deref() {
        Some("INVERSE") => true,
        Some("IDENTITY") => false,
        _ => photometric == "MONOCHROME1",
    }
}

/// Pixel Spacing, else Imager Pixel Spacing, as `[row, column]` millimetres; None when absent
/// or not positive.
pub(crate) fn spacing(obj: &InMemDicomObject) -> Option<([f64; 2], SpacingSource)> {
    [
        (tags::PIXEL_SPACING, SpacingSource::PixelSpacing),
        (tags::IMAGER_PIXEL_SPACING, SpacingSource::ImagerPixelSpacing),
    ]
    .into_iter()
    .find_map(|(tag, source)| match floats(obj, tag)[..] {
        [r, c, ..] if r > 0.0 && c > 0.0 && r.is_finite() && c.is_finite() => {
            Some(([r, c], source))
        }
        _ => None,
    })
}

fn describe(e: &dicom_object::mem::InMemElement) -> String {
    const MAX: usize = 160;
    match e.value() {
        Value::Sequence(s) => format!("<{} item(s)>", s.items().len()),
        Value::PixelSequence(p) => format!("<encapsulated, {} fragment(s)>", p.fragments().len()),
        Value::Primitive(p) => {
            if matches!(e.vr(), VR::OB | VR::OW | VR::OF | VR::OD | VR::OL | VR::OV | VR::UN) {
                return format!("<{} bytes>", p.calculate_byte_len());
            }
            let s = p.to_str();
            let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
            if s.chars().count() > MAX {
                format!("{}…", s.chars().take(MAX).collect::<String>())
            } else {
                s.to_owned()
            }
        }
    }
}

pub(crate) fn header(obj: &InMemDicomObject, depth: usize, out: &mut Vec<HeaderEntry>) {
    for e in obj.iter() {
        let tag = e.tag();
        let name =
            StandardDataDictionary.by_tag(tag).map(|d| d.alias().to_owned()).unwrap_or_default();
        out.push(HeaderEntry {
            depth,
            tag: (tag.group(), tag.element()),
            name,
            vr: e.vr().to_string().to_owned(),
            value: describe(e),
        });
        if let Some(items) = e.items() {
            for item in items {
                header(item, depth + 1, out);
            }
        }
    }
}

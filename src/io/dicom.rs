//! A grayscale DICOM frame as plain data for the UI: its modality values (SPEC §9 step 2, as
//! f32), the file's VOI presets, the non-identifying facts and, for display only, the full
//! header. Built once per file and frame on the worker; the UI windows these values itself, so
//! a window change never decodes the file again.

use hx_formats::dicom::{DicomFacts, DicomFile, HeaderEntry, Preset};

use crate::error::{Error, Result};

/// One frame of a grayscale DICOM file, ready for windowing on the UI side.
#[derive(Debug, Clone, PartialEq)]
pub struct DicomSource {
    /// Non-identifying facts (modality, body part, view, size, bits, spacing, syntax).
    pub facts: DicomFacts,
    /// The file's VOI presets, in `file:N` order.
    pub presets: Vec<Preset>,
    /// Whether the pipeline inverts after the VOI (MONOCHROME1, Presentation LUT INVERSE).
    pub inverted: bool,
    /// Every attribute as text. It holds identifiers (patient name, ID, birth date...): it is
    /// for the "show header" view only and is never written to any file.
    pub header: Vec<HeaderEntry>,
    /// The frame these values belong to (0-based).
    pub frame: usize,
    /// The frame's modality values, `rows · columns`, row-major.
    pub values: Vec<f32>,
    /// The smallest and largest modality value of the frame.
    pub range: (f64, f64),
}

impl DicomSource {
    /// The modality values of `frame` of a grayscale file; `None` for a colour file (colour is
    /// never windowed).
    pub fn of(file: &DicomFile, frame: usize) -> Result<Option<Self>> {
        if file.is_colour() {
            return Ok(None);
        }
        let values = file.values(frame).map_err(|e| Error::invalid(e.to_string()))?;
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        // Modality values are integers times a rescale slope: f32 holds them to 1e-7 relative,
        // far below one display grey level.
        #[expect(clippy::cast_possible_truncation, reason = "display values; see above")]
        let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        Ok(Some(Self {
            facts: file.facts().clone(),
            presets: file.presets().to_vec(),
            inverted: file.inverted(),
            header: file.header(),
            frame,
            values,
            range: (lo, hi),
        }))
    }

    /// Width (columns) and height (rows).
    pub fn size(&self) -> [usize; 2] {
        [self.facts.columns, self.facts.rows]
    }

    /// The non-identifying facts as label/value rows for display (SPEC §9's list).
    pub fn fact_rows(&self) -> Vec<(&'static str, String)> {
        let f = &self.facts;
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        let spacing = match (f.pixel_spacing, f.spacing_source) {
            (Some([r, c]), Some(hx_formats::dicom::SpacingSource::ImagerPixelSpacing)) => {
                format!("{r} × {c} mm (at the detector)")
            }
            (Some([r, c]), _) => format!("{r} × {c} mm"),
            (None, _) => "unknown".to_owned(),
        };
        vec![
            ("modality", or_unknown(&f.modality)),
            ("body part", or_unknown(&f.body_part)),
            ("view", or_unknown(&f.view)),
            ("size", format!("{} × {} px, {} frame(s)", f.columns, f.rows, f.frames)),
            (
                "bit depth",
                format!(
                    "{} stored of {}{}",
                    f.bits_stored,
                    f.bits_allocated,
                    if f.signed { ", signed" } else { "" }
                ),
            ),
            ("photometric", f.photometric.clone()),
            ("pixel spacing", spacing),
            ("transfer syntax", f.transfer_syntax.clone()),
        ]
    }
}

/// A small DICOM Part 10 file (explicit VR little endian) for unit tests: a 12-bit CR frame
/// of `columns × rows` with rescale 2.5 / −1024, two window presets (the second explained as
/// `BONE`), 0.5 mm spacing, MONOCHROME1, and a patient name, ID and birth date set.
#[cfg(test)]
pub(crate) fn test_file(columns: u16, rows: u16, stored: impl Fn(u16, u16) -> u16) -> Vec<u8> {
    fn el(out: &mut Vec<u8>, tag: (u16, u16), vr: &str, value: &[u8]) {
        let mut v = value.to_vec();
        if v.len() % 2 == 1 {
            v.push(if matches!(vr, "UI" | "OB") { 0 } else { b' ' });
        }
        out.extend(tag.0.to_le_bytes());
        out.extend(tag.1.to_le_bytes());
        out.extend(vr.as_bytes());
        if matches!(vr, "OB" | "OW") {
            out.extend([0, 0]);
            out.extend(u32::try_from(v.len()).unwrap_or(0).to_le_bytes());
        } else {
            out.extend(u16::try_from(v.len()).unwrap_or(0).to_le_bytes());
        }
        out.extend(v);
    }
    let mut meta = Vec::new();
    el(&mut meta, (2, 1), "OB", &[0, 1]);
    el(&mut meta, (2, 2), "UI", b"1.2.840.10008.5.1.4.1.1.1");
    el(&mut meta, (2, 3), "UI", b"1.2.3.4.5");
    el(&mut meta, (2, 0x10), "UI", b"1.2.840.10008.1.2.1");
    el(&mut meta, (2, 0x12), "UI", b"1.2.3.4");
    let mut out = vec![0_u8; 128];
    out.extend(b"DICM");
    el(&mut out, (2, 0), "UL", &u32::try_from(meta.len()).unwrap_or(0).to_le_bytes());
    out.extend(meta);
    let us = |v: u16| v.to_le_bytes().to_vec();
    el(&mut out, (8, 0x60), "CS", b"CR");
    el(&mut out, (0x10, 0x10), "PN", b"Doe^Jane");
    el(&mut out, (0x10, 0x20), "LO", b"PID-123");
    el(&mut out, (0x10, 0x30), "DA", b"19361224");
    el(&mut out, (0x18, 0x15), "CS", b"CHEST");
    el(&mut out, (0x28, 2), "US", &us(1));
    el(&mut out, (0x28, 4), "CS", b"MONOCHROME1");
    el(&mut out, (0x28, 0x10), "US", &us(rows));
    el(&mut out, (0x28, 0x11), "US", &us(columns));
    el(&mut out, (0x28, 0x30), "DS", b"0.5\\0.5");
    el(&mut out, (0x28, 0x100), "US", &us(16));
    el(&mut out, (0x28, 0x101), "US", &us(12));
    el(&mut out, (0x28, 0x102), "US", &us(11));
    el(&mut out, (0x28, 0x103), "US", &us(0));
    el(&mut out, (0x28, 0x1050), "DS", b"1000\\2500");
    el(&mut out, (0x28, 0x1051), "DS", b"3000\\800");
    el(&mut out, (0x28, 0x1052), "DS", b"-1024");
    el(&mut out, (0x28, 0x1053), "DS", b"2.5");
    el(&mut out, (0x28, 0x1055), "LO", b"\\BONE");
    let pixels: Vec<u8> = (0..rows)
        .flat_map(|y| (0..columns).map(move |x| (x, y)))
        .flat_map(|(x, y)| stored(x, y).to_le_bytes())
        .collect();
    el(&mut out, (0x7FE0, 0x10), "OW", &pixels);
    out
}

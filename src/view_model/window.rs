//! Window/level for display (SPEC §9 steps 3–5) on the UI side, from the modality values the
//! worker sent once per file and frame ([`DicomSource`]): the chosen [`Window`] resolved to a
//! VOI as `hx_formats` resolves it for the model, the windowed [0, 1] values, their grey
//! image, the live drag (horizontal = width, vertical = level, as in Weasis and OHIF) and the
//! millimetre scale bar. Pure functions, unit-tested; the UI only draws their results.

use std::sync::Arc;

use egui::{Color32, ColorImage};
use hx_formats::dicom::{PresetKind, Voi, Window, percentile};

use crate::convert::to_byte;
use crate::io::dicom::DicomSource;

/// A window resolved against one frame: the VOI to apply and its LINEAR-equivalent center and
/// width (the read-out, and where a drag starts).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The VOI step, as the model pipeline applies it.
    pub voi: Voi,
    /// Window center (level).
    pub center: f64,
    /// Window width.
    pub width: f64,
    /// What the window is, e.g. `file preset 1 (LUNG)`, `auto (min–max)`, `custom`.
    pub name: String,
}

impl Resolved {
    /// The live read-out, e.g. `W 2000 L 1500 · file preset 1 (LUNG)`.
    pub fn readout(&self) -> String {
        format!("W {} L {} · {}", number(self.width), number(self.center), self.name)
    }
}

/// A number for the read-out: whole numbers without decimals, others with two.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.2}") }
}

/// The LINEAR window (center, width) that maps `low` to 0 and `high` to 1 as PS3.3's LINEAR
/// function does (it uses center − 0.5 and width − 1).
fn linear_for_range(low: f64, high: f64) -> (f64, f64) {
    ((low + high) / 2.0 + 0.5, (high - low).max(0.0) + 1.0)
}

/// `window` for the frame in `src`, as `DicomFile::resolve` does for the model: the file's
/// first preset by default (auto without presets), `file:N`, a custom LINEAR center/width,
/// min–max, or percentiles. An error names what is wrong (a missing preset, a bad width).
pub fn resolve(src: &DicomSource, window: &Window) -> Result<Resolved, String> {
    let range = |p: Option<f64>| {
        let (low, high) = match p {
            None => src.range,
            Some(p) => {
                let mut v: Vec<f64> = src.values.iter().map(|&x| f64::from(x)).collect();
                (percentile(&mut v, p), percentile(&mut v, 100.0 - p))
            }
        };
        let (center, width) = linear_for_range(low, high);
        let name = p.map_or_else(|| "auto (min–max)".to_owned(), |p| format!("percentile {p}"));
        Resolved { voi: Voi::Range { low, high }, center, width, name }
    };
    let preset = |index: usize| -> Result<Resolved, String> {
        let p = src.presets.get(index).ok_or_else(|| {
            format!(
                "the file has {} window preset(s); there is no preset {}",
                src.presets.len(),
                index + 1
            )
        })?;
        let (center, width) = match &p.kind {
            PresetKind::Window { center, width, .. } => (*center, *width),
            PresetKind::Lut(l) => {
                let first = crate::convert::i64_to_f64(l.first);
                linear_for_range(first, first + crate::convert::to_f64(l.data.len()) - 1.0)
            }
        };
        let name = match &p.explanation {
            Some(e) => format!("file preset {} ({e})", index + 1),
            None => format!("file preset {}", index + 1),
        };
        Ok(Resolved { voi: p.voi(), center, width, name })
    };
    match *window {
        Window::File if src.presets.is_empty() => Ok(range(None)),
        Window::File => preset(0),
        Window::FileN(n) => preset(n),
        Window::Custom { center, width } => {
            Window::custom(center, width).map_err(|e| e.to_string())?;
            let voi =
                Voi::Window { center, width, function: hx_formats::dicom::VoiFunction::Linear };
            Ok(Resolved { voi, center, width, name: "custom".to_owned() })
        }
        Window::Auto => Ok(range(None)),
        Window::Percentile(p) => {
            Window::percentile(p).map_err(|e| e.to_string())?;
            Ok(range(Some(p)))
        }
    }
}

/// The frame's [0, 1] values under `voi`, inverted after the VOI for MONOCHROME1: SPEC §9's
/// steps 3–5, the values `DicomFile::render` gives the model (before resizing).
pub fn windowed(src: &DicomSource, voi: &Voi) -> Vec<f32> {
    windowed_values(&src.values, voi, src.inverted)
}

/// Modality `values` under `voi`, inverted after the VOI when `invert` (MONOCHROME1).
fn windowed_values(values: &[f32], voi: &Voi, invert: bool) -> Vec<f32> {
    // The VOI runs in f64 like the model pipeline; the result is rounded once to f32.
    #[expect(clippy::cast_possible_truncation, reason = "[0, 1] values, rounded once")]
    let out = values
        .iter()
        .map(|&v| {
            let y = voi.apply(f64::from(v));
            (if invert { 1.0 - y } else { y }) as f32
        })
        .collect();
    out
}

/// The longest side, in pixels, of the preview shown while the window is being dragged: the
/// full-resolution image is windowed again only on release.
pub const PREVIEW_SIDE: usize = 512;

/// The sampling stride that brings `[w, h]` within [`PREVIEW_SIDE`] on its longer side (1: the
/// frame is small enough as it is).
pub fn preview_stride(size: [usize; 2]) -> usize {
    size[0].max(size[1]).div_ceil(PREVIEW_SIDE).max(1)
}

/// Every `stride`-th value of a `[w, h]` frame in both directions (the top-left pixel of each
/// `stride`×`stride` block), and the size of the result.
pub fn subsampled(values: &[f32], size: [usize; 2], stride: usize) -> (Vec<f32>, [usize; 2]) {
    let [w, h] = size;
    let stride = stride.max(1);
    let out_size = [w.div_ceil(stride), h.div_ceil(stride)];
    let out = (0..h)
        .step_by(stride)
        .flat_map(|y| (0..w).step_by(stride).map(move |x| y * w + x))
        .filter_map(|i| values.get(i).copied())
        .collect();
    (out, out_size)
}

/// A grey image of `[w, h]` values in [0, 1]; `invert` flips it for display only.
pub fn grey_image(values: &[f32], size: [usize; 2], invert: bool) -> ColorImage {
    let px = values
        .iter()
        .take(size[0] * size[1])
        .map(|&v| {
            let v = if invert { 1.0 - v } else { v };
            Color32::from_gray(to_byte(255.0 * v))
        })
        .collect();
    ColorImage::new(size, px)
}

/// How much one point of drag changes the width or level: the frame's value range over 512
/// (at least 0.01), so a drag across a typical panel sweeps the whole range.
pub fn drag_step(src: &DicomSource) -> f64 {
    ((src.range.1 - src.range.0) / 512.0).max(0.01)
}

/// The custom window after dragging `delta` points from a window of `(center, width)`:
/// right widens, left narrows (width at least 1); down raises the level, up lowers it.
pub fn dragged(start: (f64, f64), delta: [f32; 2], step: f64) -> Window {
    let width = (start.1 + f64::from(delta[0]) * step).max(1.0);
    let center = start.0 + f64::from(delta[1]) * step;
    Window::Custom { center, width }
}

/// The displayed size in points of an image of `[columns, rows]` pixels with `[row, column]`
/// spacing (square pixels when unknown) fitted into `max` points.
pub fn fitted_size(size: [usize; 2], spacing: Option<[f64; 2]>, max: [f32; 2]) -> [f32; 2] {
    let [r, c] = spacing.unwrap_or([1.0, 1.0]);
    let w = crate::convert::to_f64(size[0]) * c;
    let h = crate::convert::to_f64(size[1]) * r;
    if w <= 0.0 || h <= 0.0 {
        return [0.0, 0.0];
    }
    let s = (f64::from(max[0]) / w).min(f64::from(max[1]) / h);
    #[expect(clippy::cast_possible_truncation, reason = "screen points")]
    let out = [(w * s) as f32, (h * s) as f32];
    out
}

/// A scale bar for `mm_per_point` millimetres per screen point: the longest of 1, 2, 5 × 10^k
/// mm that fits in `max_points`, as (millimetres, points). None when the scale is unknown.
pub fn scale_bar(mm_per_point: f64, max_points: f32) -> Option<(f64, f32)> {
    if !(mm_per_point.is_finite() && mm_per_point > 0.0 && max_points > 0.0) {
        return None;
    }
    let max_mm = mm_per_point * f64::from(max_points);
    let decade = 10f64.powf(max_mm.log10().floor());
    let mm = [5.0, 2.0, 1.0].into_iter().map(|k| k * decade).find(|&mm| mm <= max_mm)?;
    #[expect(clippy::cast_possible_truncation, reason = "screen points")]
    let points = (mm / mm_per_point) as f32;
    Some((mm, points))
}

/// The reading view of a DICOM frame: the windowed full-resolution image and its read-out.
#[derive(Debug, Clone)]
pub struct DicomView {
    /// What it shows; rebuilt when this changes.
    pub key: DicomKey,
    /// The frame's data (values for the hover read-out, facts, spacing).
    pub source: Arc<DicomSource>,
    /// The window on show, resolved; `Err` says why the chosen window cannot be applied.
    pub resolved: Result<Resolved, String>,
    /// The windowed image at full resolution.
    pub image: Arc<ColorImage>,
}

/// What a [`DicomView`] shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DicomKey {
    /// The image entry.
    pub image: usize,
    /// Identifies the source frame (a new one per frame received).
    pub source_id: u64,
    /// The window on show.
    pub window: Window,
    /// Display inversion.
    pub invert: bool,
    /// The window on show is being changed (a drag on the image, a dragged or typed value not
    /// committed yet): a preview of at most [`PREVIEW_SIDE`] pixels a side is enough, and cheap
    /// to window and upload every frame.
    pub preview: bool,
}

impl DicomView {
    /// Builds the view: resolves the window and windows the frame (black on error), at full
    /// resolution, or subsampled to at most [`PREVIEW_SIDE`] pixels a side for a preview.
    pub fn build(key: DicomKey, source: Arc<DicomSource>) -> Self {
        let resolved = resolve(&source, &key.window);
        let full = source.size();
        let stride = if key.preview { preview_stride(full) } else { 1 };
        let image = match &resolved {
            Ok(r) if stride > 1 => {
                let (values, size) = subsampled(&source.values, full, stride);
                grey_image(&windowed_values(&values, &r.voi, source.inverted), size, key.invert)
            }
            Ok(r) => grey_image(&windowed(&source, &r.voi), full, key.invert),
            Err(_) => ColorImage::new(full, vec![Color32::BLACK; full[0] * full[1]]),
        };
        Self { key, source, resolved, image: Arc::new(image) }
    }

    /// The pixel under fractions `(fx, fy)` of the image and its modality value.
    pub fn value_at(&self, fx: f32, fy: f32) -> Option<(usize, usize, f32)> {
        let [w, h] = self.source.size();
        let (x, y) = super::planes::pixel_at(fx, fy, w, h)?;
        self.source.values.get(y * w + x).map(|&v| (x, y, v))
    }

    /// Millimetres per image pixel across (column spacing), when the file says.
    pub fn column_spacing(&self) -> Option<f64> {
        self.source.facts.pixel_spacing.map(|[_, c]| c)
    }
}

#[cfg(test)]
mod tests;

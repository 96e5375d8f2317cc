//! `image FILE --out X.npy [--window W] [--frame N] [--size native|H,W]` (SPEC §9): the [0, 1]
//! grayscale image the model pipeline starts from, as float32 [H, W], and one JSON line of
//! non-identifying facts (never patient name, ID, birth date, accession number or institution).

use hx_formats::dicom::{DicomFile, Preset, PresetKind, WindowUsed};
use serde_json::{Value, json};

use super::args::ImageArgs;
use crate::error::{Error, Result};
use crate::input::{self, Opened};

/// Runs `image`: writes the .npy and prints the facts.
pub fn run(a: &ImageArgs) -> Result<()> {
    let size = parse_size(&a.size)?;
    let opened = input::open(&a.file)?;
    let options = a.dicom.options();
    let (raster, mut facts) = match &opened {
        Opened::Dicom(d) => {
            let (raster, used) = d
                .render_detailed(options.frame, &options.window)
                .map_err(|e| Error::Image { path: a.file.clone(), message: e.to_string() })?;
            (raster, dicom_facts(d, &used))
        }
        Opened::Raster(r) => {
            let raster = opened.render(&a.file, &options)?;
            let facts = json!({
                "format": "image",
                "rows": r.height,
                "columns": r.width,
                "frames": 1,
                "channels": r.channels,
                "bits_stored": r.bits,
                "window": Value::Null,
                "presets": [],
            });
            (raster, facts)
        }
    };
    let gray = hx_formats::Raster {
        width: raster.width,
        height: raster.height,
        channels: 1,
        bits: raster.bits,
        data: raster.to_gray(),
    };
    let out = match size {
        Some(s) => input::resize_raster(&gray, s)?,
        None => gray,
    };
    crate::io::npy::write_f32(&a.out, &[out.height, out.width], &out.data)?;
    facts["frame"] = json!(options.frame);
    facts["shape"] = json!([out.height, out.width]);
    println!("{facts}");
    Ok(())
}

/// `native` → None, `H,W` → the size.
fn parse_size(s: &str) -> Result<Option<[usize; 2]>> {
    if s.trim().eq_ignore_ascii_case("native") {
        return Ok(None);
    }
    let bad = || Error::invalid(format!("--size '{s}': expected native or H,W (e.g. 256,256)"));
    let (h, w) = s.split_once(',').ok_or_else(bad)?;
    let (h, w): (usize, usize) =
        (h.trim().parse().map_err(|_| bad())?, w.trim().parse().map_err(|_| bad())?);
    if h == 0 || w == 0 {
        return Err(bad());
    }
    Ok(Some([h, w]))
}

fn preset_json(index: usize, p: &Preset) -> Value {
    let mut v = match &p.kind {
        PresetKind::Window { center, width, function } => json!({
            "kind": "window", "center": center, "width": width, "function": function.name(),
        }),
        PresetKind::Lut(l) => json!({
            "kind": "lut", "entries": l.data.len(), "first": l.first, "bits": l.bits,
        }),
    };
    v["index"] = json!(index);
    v["explanation"] = json!(p.explanation);
    v["label"] = json!(p.label());
    v
}

fn window_json(d: &DicomFile, used: &WindowUsed) -> Value {
    match used {
        WindowUsed::Preset { index } => {
            let mut v = d.presets().get(*index).map_or(Value::Null, |p| preset_json(*index, p));
            v["mode"] = json!("file");
            v
        }
        WindowUsed::Custom { center, width } => {
            json!({"mode": "custom", "center": center, "width": width, "function": "LINEAR"})
        }
        WindowUsed::Range { percentile, low, high } => json!({
            "mode": if percentile.is_some() { "percentile" } else { "auto" },
            "p": percentile,
            "low": low,
            "high": high,
            "center": (low + high) / 2.0,
            "width": high - low,
        }),
        WindowUsed::None => Value::Null,
    }
}

/// The non-identifying facts of SPEC §9, the window used and the file's presets.
fn dicom_facts(d: &DicomFile, used: &WindowUsed) -> Value {
    let f = d.facts();
    json!({
        "format": "dicom",
        "modality": f.modality,
        "body_part": f.body_part,
        "view": f.view,
        "rows": f.rows,
        "columns": f.columns,
        "frames": f.frames,
        "channels": f.samples_per_pixel,
        "bits_allocated": f.bits_allocated,
        "bits_stored": f.bits_stored,
        "signed": f.signed,
        "photometric_interpretation": f.photometric,
        "transfer_syntax": f.transfer_syntax,
        "transfer_syntax_uid": f.transfer_syntax_uid,
        "pixel_spacing": f.pixel_spacing,
        "pixel_spacing_source": f.spacing_source.map(|s| format!("{s:?}")),
        "inverted": d.inverted(),
        "window": window_json(d, used),
        "presets": d.presets().iter().enumerate().map(|(i, p)| preset_json(i, p)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("native").expect("native"), None);
        assert_eq!(parse_size("256, 128").expect("hw"), Some([256, 128]));
        for bad in ["", "256", "0,5", "a,b", "-1,2"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}

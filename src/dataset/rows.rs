//! The AX CSV: one row per (image, method, variant), reading, writing, resuming and merging.
//!
//! Columns are SPEC §7's `image,label,predicted,correct,method,variant,co`, followed by
//! `predicted_ax` (the prediction on x', for the accuracy-after-AX table), `mask_mass` and
//! `pointing` (lesion localisation, empty where the image has no lesion mask). The method and
//! variant columns are parsed into [`HeatmapSource`] and [`Variant`] here, once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;

use crate::ax::{HeatmapSource, Variant};
use crate::error::{Error, Result};

/// The header line.
pub const HEADER: &str =
    "image,label,predicted,correct,method,variant,co,predicted_ax,mask_mass,pointing";

/// A row's sort and identity key: image, method, variant.
pub type Key = (String, HeatmapSource, Variant);

/// One CSV row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Image path relative to the data folder, `/`-separated.
    pub image: String,
    /// Ground-truth class index.
    pub label: i64,
    /// Predicted class on x.
    pub predicted: i64,
    /// predicted == label.
    pub correct: bool,
    /// The method (or GAX).
    pub method: HeatmapSource,
    /// How the heatmap was combined with the image.
    pub variant: Variant,
    /// CO score.
    pub co: f32,
    /// Predicted class on x' (absent in files written by other tools).
    pub predicted_ax: Option<i64>,
    /// Share of the positive heatmap mass inside the lesion mask (images with a lesion mask).
    pub mask_mass: Option<f32>,
    /// Whether the heatmap's maximum lies inside the lesion mask (images with a lesion mask).
    pub pointing: Option<bool>,
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Row {
    /// The row as a CSV line (no newline).
    pub fn to_line(&self) -> String {
        let pa = self.predicted_ax.map(|p| p.to_string()).unwrap_or_default();
        let mm = self.mask_mass.map(|m| m.to_string()).unwrap_or_default();
        let pg = self.pointing.map(|p| u8::from(p).to_string()).unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{pa},{mm},{pg}",
            quote(&self.image),
            self.label,
            self.predicted,
            self.correct,
            self.method.name(),
            self.variant.name(),
            self.co
        )
    }

    /// A whole row, `None` for a line cut short by an interrupted write, or an error for a
    /// complete line whose method or variant is unknown.
    fn parse(line: &str) -> std::result::Result<Option<Self>, String> {
        let f = split_csv(line);
        if f.len() < 7 {
            return Ok(None);
        }
        let method =
            HeatmapSource::parse(&f[4]).ok_or_else(|| format!("unknown method '{}'", f[4]))?;
        let variant = Variant::parse(&f[5]).ok_or_else(|| format!("unknown variant '{}'", f[5]))?;
        let number = |s: &str| s.parse().ok();
        let (Some(label), Some(predicted), Some(correct), Some(co)) =
            (number(&f[1]), number(&f[2]), f[3].parse().ok(), f[6].parse().ok())
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            image: f[0].clone(),
            label,
            predicted,
            correct,
            method,
            variant,
            co,
            predicted_ax: f.get(7).and_then(|s| s.parse().ok()),
            mask_mass: f.get(8).and_then(|s| s.parse().ok()),
            pointing: f.get(9).and_then(|s| match s.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            }),
        }))
    }

    /// The sort key: image, then method in the paper's order (GAX last), then variant (sum,
    /// mult). `ax --data` writes each batch in this order, so merged shards equal an unsharded
    /// file byte for byte.
    pub fn key(&self) -> Key {
        (self.image.clone(), self.method, self.variant)
    }
}

/// Reads a CSV written by `ax --data` or `merge`.
pub fn read(path: &Path) -> Result<Vec<Row>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.starts_with("image,label,predicted,correct,method,variant,co") => {}
        _ => {
            return Err(Error::format(
                path,
                "not an AX CSV (header image,label,predicted,correct,method,variant,co)",
            ));
        }
    }
    // A line cut short by an interrupted write is dropped; the image is redone on resume.
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        match Row::parse(line) {
            Ok(Some(r)) => rows.push(r),
            Ok(None) => {}
            Err(e) => return Err(Error::format(path, format!("line {}: {e}", i + 2))),
        }
    }
    Ok(rows)
}

/// Writes rows (header included) atomically.
pub fn write(path: &Path, rows: &[Row]) -> Result<()> {
    let mut s = String::from(HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&r.to_line());
        s.push('\n');
    }
    crate::io::write_atomic(path, s.as_bytes())
}

/// Appends rows to an existing CSV and flushes them to disk.
pub fn append(path: &Path, rows: &[Row]) -> Result<()> {
    let mut f =
        std::fs::OpenOptions::new().append(true).open(path).map_err(|e| Error::io(path, e))?;
    let mut s = String::new();
    for r in rows {
        s.push_str(&r.to_line());
        s.push('\n');
    }
    f.write_all(s.as_bytes()).and_then(|()| f.sync_data()).map_err(|e| Error::io(path, e))
}

/// Keeps only images that have all `expected` rows (an interrupted batch leaves some out).
pub fn complete_images(rows: &[Row], expected: usize) -> BTreeSet<String> {
    let mut count: BTreeMap<&str, BTreeSet<(HeatmapSource, Variant)>> = BTreeMap::new();
    for r in rows {
        count.entry(&r.image).or_default().insert((r.method, r.variant));
    }
    count.into_iter().filter(|(_, s)| s.len() >= expected).map(|(k, _)| k.to_owned()).collect()
}

/// Merges shard files: rows de-duplicated by (image, method, variant) and sorted.
pub fn merge(inputs: &[&Path]) -> Result<Vec<Row>> {
    let mut by_key: BTreeMap<Key, Row> = BTreeMap::new();
    for p in inputs {
        for r in read(p)? {
            by_key.insert(r.key(), r);
        }
    }
    Ok(by_key.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Option<Row> {
        Row::parse(line).ok().flatten()
    }

    #[test]
    fn line_round_trip() {
        let r = Row {
            image: "NORMAL/a,b.png".into(),
            label: 0,
            predicted: 1,
            correct: false,
            method: HeatmapSource::Method(crate::attribution::Method::DeepLift),
            variant: Variant::Mult,
            co: -1.25,
            predicted_ax: Some(0),
            mask_mass: Some(0.625),
            pointing: Some(true),
        };
        assert_eq!(parse(&r.to_line()), Some(r.clone()));
        let plain = Row { mask_mass: None, pointing: None, ..r };
        assert_eq!(parse(&plain.to_line()), Some(plain));
        assert_eq!(parse("x,1,1,true,Saliency,sum,0.5").map(|r| r.predicted_ax), Some(None));
        assert_eq!(parse("truncated,1,"), None);
        assert!(Row::parse("x,1,1,true,Sailency,sum,0.5").is_err());
        assert_eq!(parse("x,1,1,true,GAX,mult,0.5").map(|r| r.method), Some(HeatmapSource::Gax));
    }
}

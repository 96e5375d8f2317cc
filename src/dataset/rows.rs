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

impl Row {
    /// The row's fields, in [`HEADER`]'s order.
    pub fn fields(&self) -> [String; 10] {
        [
            self.image.clone(),
            self.label.to_string(),
            self.predicted.to_string(),
            self.correct.to_string(),
            self.method.name().to_owned(),
            self.variant.name().to_owned(),
            self.co.to_string(),
            self.predicted_ax.map(|p| p.to_string()).unwrap_or_default(),
            self.mask_mass.map(|m| m.to_string()).unwrap_or_default(),
            self.pointing.map(|p| u8::from(p).to_string()).unwrap_or_default(),
        ]
    }

    /// A row from its fields (7 to 10, as [`HEADER`]), or what is wrong with them.
    pub fn from_fields(f: &csv::StringRecord) -> std::result::Result<Self, String> {
        if f.len() < 7 {
            return Err(format!("{} fields, at least 7 expected", f.len()));
        }
        let method =
            HeatmapSource::parse(&f[4]).ok_or_else(|| format!("unknown method '{}'", &f[4]))?;
        let variant =
            Variant::parse(&f[5]).ok_or_else(|| format!("unknown variant '{}'", &f[5]))?;
        let number = |name: &str, s: &str| -> std::result::Result<i64, String> {
            s.parse().map_err(|_| format!("{name} '{s}' is not a whole number"))
        };
        let co: f32 = f[6].parse().map_err(|_| format!("co '{}' is not a number", &f[6]))?;
        let correct =
            f[3].parse().map_err(|_| format!("correct '{}' is not true or false", &f[3]))?;
        Ok(Self {
            image: f[0].to_owned(),
            label: number("label", &f[1])?,
            predicted: number("predicted", &f[2])?,
            correct,
            method,
            variant,
            co,
            predicted_ax: f
                .get(7)
                .and_then(optional)
                .map(|s| number("predicted_ax", s))
                .transpose()?,
            mask_mass: f
                .get(8)
                .and_then(optional)
                .map(|s| s.parse().map_err(|_| format!("mask_mass '{s}' is not a number")))
                .transpose()?,
            pointing: f
                .get(9)
                .and_then(optional)
                .map(|s| match s {
                    "1" => Ok(true),
                    "0" => Ok(false),
                    _ => Err(format!("pointing '{s}' is not 0 or 1")),
                })
                .transpose()?,
        })
    }

    /// The sort key: image, then method in the paper's order (GAX last), then variant (sum,
    /// mult). `ax --data` writes each batch in this order, so merged shards equal an unsharded
    /// file byte for byte.
    pub fn key(&self) -> Key {
        (self.image.clone(), self.method, self.variant)
    }
}

/// Reads a CSV written by `ax --data` or `merge`. An unterminated last line (a write cut off
/// by a kill) is dropped, so its image is redone on resume; any other bad line is an error.
pub fn read(path: &Path) -> Result<Vec<Row>> {
    read_rows(path, false)
}

/// Like [`read`], but a cut-off last line is an error too (for merging finished shards).
pub fn read_complete(path: &Path) -> Result<Vec<Row>> {
    read_rows(path, true)
}

fn read_rows(path: &Path, complete: bool) -> Result<Vec<Row>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let whole = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) if i + 1 < bytes.len() && !complete => &bytes[..=i],
        Some(i) if i + 1 < bytes.len() => {
            return Err(Error::format(path, "the last line is cut off (an interrupted write)"));
        }
        Some(_) => &bytes[..],
        None => &[][..],
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(whole);
    let header = reader.headers().map_err(|e| Error::format(path, e.to_string()))?;
    let expected: Vec<&str> = HEADER.split(',').take(7).collect();
    if header.iter().take(7).ne(expected.iter().copied()) {
        return Err(Error::format(
            path,
            "not an AX CSV (header image,label,predicted,correct,method,variant,co)",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::format(path, e.to_string()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let row = Row::from_fields(&record)
            .map_err(|e| Error::format(path, format!("line {line}: {e}")))?;
        rows.push(row);
    }
    Ok(rows)
}

/// The rows as CSV text, with the header when `header`.
fn to_csv(rows: &[Row], header: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::invalid(format!("writing CSV: {e}"));
    if header {
        w.write_record(HEADER.split(',')).map_err(fail)?;
    }
    for r in rows {
        w.write_record(r.fields()).map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::invalid(format!("writing CSV: {e}")))
}

/// Writes rows (header included) atomically.
pub fn write(path: &Path, rows: &[Row]) -> Result<()> {
    crate::io::write_atomic(path, &to_csv(rows, true)?)
}

/// Appends rows to an existing CSV and flushes them to disk.
pub fn append(path: &Path, rows: &[Row]) -> Result<()> {
    let bytes = to_csv(rows, false)?;
    let mut f =
        std::fs::OpenOptions::new().append(true).open(path).map_err(|e| Error::io(path, e))?;
    f.write_all(&bytes).and_then(|()| f.sync_data()).map_err(|e| Error::io(path, e))
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
        for r in read_complete(p)? {
            by_key.insert(r.key(), r);
        }
    }
    Ok(by_key.into_values().collect())
}

/// `None` for an empty field.
fn optional(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        Row {
            image: "NORMAL/a,b \"c\"\nd.png".into(),
            label: 0,
            predicted: 1,
            correct: false,
            method: HeatmapSource::Method(crate::attribution::Method::DeepLift),
            variant: Variant::Mult,
            co: -1.25,
            predicted_ax: Some(0),
            mask_mass: Some(0.625),
            pointing: Some(true),
        }
    }

    #[test]
    fn rows_round_trip_through_the_file_even_with_quotes_and_newlines() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let p = dir.path().join("r.csv");
        let r = row();
        let plain = Row { mask_mass: None, pointing: None, predicted_ax: None, ..r.clone() };
        write(&p, std::slice::from_ref(&r))?;
        append(&p, std::slice::from_ref(&plain))?;
        assert_eq!(read(&p)?, vec![r.clone(), plain.clone()]);
        assert_eq!(read_complete(&p)?, vec![r.clone(), plain]);
        // A cut-off append is dropped by a resume and refused by a merge.
        let mut bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        bytes.extend_from_slice(b"PNEUMONIA/x.png,1,");
        std::fs::write(&p, &bytes).map_err(|e| Error::io(&p, e))?;
        assert_eq!(read(&p)?.len(), 2);
        assert!(read_complete(&p).is_err());
        // A complete but wrong line is an error, naming the line.
        std::fs::write(&p, format!("{HEADER}\nx,1,1,true,Sailency,sum,0.5\n"))
            .map_err(|e| Error::io(&p, e))?;
        let e = read(&p).map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(e.contains("line 2: unknown method 'Sailency'"), "{e}");
        std::fs::write(&p, format!("{HEADER}\nx,1,1,true,GAX,mult,0.5\n"))
            .map_err(|e| Error::io(&p, e))?;
        assert_eq!(read(&p)?[0].method, HeatmapSource::Gax);
        assert_eq!(read(&p)?[0].predicted_ax, None);
        Ok(())
    }
}

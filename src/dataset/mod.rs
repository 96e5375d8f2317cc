//! Dataset-wide AX: CO scores over a labelled image folder (one subfolder per class), split by
//! correct vs wrong predictions, with lesion localisation where masks exist and optionally GAX;
//! batched, resumable and shardable.
//!
//! `scan` lists the images (`labels` from a labels CSV for one pathology), `run` scores them batch by batch (`gax` adds the GAX rows), `rows`
//! is the CSV, `stats` the summary, `lesion` the localisation metrics.

mod gax;
mod labels;
pub mod lesion;
pub mod record;
pub mod rows;
mod run;
mod scan;
pub mod stats;

use std::path::{Path, PathBuf};

use crate::ax::HeatmapSource;
use crate::error::{Error, Result};

pub use labels::scan_labels_csv;
pub use record::{RunRecord, record_path};
pub use rows::Row;
pub use run::{Progress, RunOptions, Shard, run, run_with_rows, shard_batches};
pub use scan::{Item, list_images, scan, scan_pathology};
pub use stats::Summary;

/// The method column of GAX rows.
pub const GAX: HeatmapSource = HeatmapSource::Gax;

/// The summary file beside a CSV: `results.csv` → `results.summary.json`.
pub fn summary_path(csv: &Path) -> PathBuf {
    csv.with_extension("summary.json")
}

/// Writes the summary JSON beside `csv`.
pub fn write_summary(csv: &Path, summary: &Summary) -> Result<()> {
    let p = summary_path(csv);
    let text =
        serde_json::to_string_pretty(summary).map_err(|e| Error::format(&p, e.to_string()))?;
    crate::io::write_atomic(&p, (text + "\n").as_bytes())
}

/// The statistics table as text, for the terminal.
pub fn table(summary: &Summary) -> String {
    let mut s = format!("{} images, accuracy {:.4}\n", summary.images, summary.accuracy);
    let lesions = summary.groups.iter().any(|g| g.lesion_images > 0);
    s.push_str(
        "method          variant  n_ok  med_ok   n_wrong med_wrong  gap      AUROC   acc_after_AX",
    );
    s.push_str(if lesions { "  n_lesion  mass_in_mask  pointing\n" } else { "\n" });
    for g in &summary.groups {
        s.push_str(&format!(
            "{:15} {:7} {:5} {:8.3} {:7} {:9.3} {:8.3} {:7.3} {:<12.4}",
            g.method.name(),
            g.variant.name(),
            g.correct.count,
            g.correct.median,
            g.wrong.count,
            g.wrong.median,
            g.gap,
            g.auroc,
            g.accuracy_after_ax
        ));
        if lesions {
            s.push_str(&format!(
                "  {:8}  {:12.3}  {:.3}",
                g.lesion_images, g.mask_mass, g.pointing
            ));
        }
        s.push('\n');
    }
    s
}

/// `merge`: combines shard CSVs into one CSV at `out`, rows de-duplicated and sorted, with its
/// summary beside it; returns the summary.
pub fn merge_files(out: &Path, inputs: &[PathBuf]) -> Result<Summary> {
    if inputs.is_empty() {
        return Err(Error::invalid("merge needs at least one input CSV"));
    }
    let record = record::common(inputs)?;
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let rows = rows::merge(&refs)?;
    rows::write(out, &rows)?;
    match record {
        Some(r) => r.write(out)?,
        None => remove_if_present(&record_path(out))?,
    }
    let summary = stats::summarise(&rows);
    write_summary(out, &summary)?;
    Ok(summary)
}

/// Removes `path` when it exists.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

//! The run record beside a dataset CSV (`X.csv` → `X.run.json`): which model, data and
//! settings made the rows, so that a resume or a merge never mixes rows of different runs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::RunOptions;
use crate::error::{Error, Result};
use crate::model::Model;

/// What made the rows of one CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Architecture name (`resnet34`, `torchscript`, …).
    pub arch: String,
    /// SHA-256 of the weights (or of the seed of random weights).
    pub weights: String,
    /// Class labels, in class order.
    pub labels: Vec<String>,
    /// The data folder, canonical.
    pub data: String,
    /// Methods in the order scored.
    pub methods: Vec<String>,
    /// GAX steps per image (0: no GAX rows).
    pub gax_steps: usize,
    /// Images per batch (it decides the batches, and batched numbers can differ in the last
    /// bits from single ones).
    pub batch: usize,
    /// `I/N`, or empty for the whole dataset.
    pub shard: String,
    /// The DICOM window, as written on the command line's side.
    pub window: String,
    /// The DICOM frame.
    pub frame: usize,
    /// The pathology of a per-pathology run (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The labels CSV of a per-pathology run that reads one (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_csv: Option<String>,
}

/// The record file beside `csv`: `results.csv` → `results.run.json`.
pub fn record_path(csv: &Path) -> PathBuf {
    csv.with_extension("run.json")
}

impl RunRecord {
    /// The record of running `model` over `dir` with `opts`.
    pub fn new(model: &Model, dir: &Path, opts: &RunOptions) -> Result<Self> {
        let data = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
        let info = model.info();
        Ok(Self {
            arch: info.arch.clone(),
            weights: info.hash.clone(),
            labels: info.labels.clone(),
            data: data.display().to_string(),
            methods: opts.methods.iter().map(|m| m.name().to_owned()).collect(),
            gax_steps: opts.gax_steps,
            batch: opts.batch,
            shard: opts.shard.map(|s| format!("{}/{}", s.index, s.count)).unwrap_or_default(),
            window: format!("{:?}", opts.load.window),
            frame: opts.load.frame,
            target: opts.target.map(|t| {
                usize::try_from(t)
                    .ok()
                    .and_then(|i| info.labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            }),
            labels_csv: opts.labels_csv.as_ref().map(|p| {
                std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string()
            }),
        })
    }

    /// Reads the record beside `csv`, `None` when there is none.
    pub fn read(csv: &Path) -> Result<Option<Self>> {
        let p = record_path(csv);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&p, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::format(&p, format!("not a run record: {e}")))
    }

    /// Writes the record beside `csv`.
    pub fn write(&self, csv: &Path) -> Result<()> {
        let p = record_path(csv);
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::format(&p, e.to_string()))?;
        crate::io::write_atomic(&p, (text + "\n").as_bytes())
    }

    /// The fields where `self` and `other` differ, as (field, ours, theirs); the shard counts
    /// only when `with_shard`.
    pub fn differences(
        &self,
        other: &Self,
        with_shard: bool,
    ) -> Vec<(&'static str, String, String)> {
        let mut d = Vec::new();
        let mut check = |field: &'static str, a: String, b: String| {
            if a != b {
                d.push((field, a, b));
            }
        };
        check("architecture", self.arch.clone(), other.arch.clone());
        check("weights (SHA-256)", short(&self.weights), short(&other.weights));
        check("labels", self.labels.join(","), other.labels.join(","));
        check("data folder", self.data.clone(), other.data.clone());
        check("methods", self.methods.join(","), other.methods.join(","));
        check("GAX steps", self.gax_steps.to_string(), other.gax_steps.to_string());
        check("batch", self.batch.to_string(), other.batch.to_string());
        if with_shard {
            check("shard", or_all(&self.shard), or_all(&other.shard));
        }
        check("DICOM window", self.window.clone(), other.window.clone());
        check("DICOM frame", self.frame.to_string(), other.frame.to_string());
        let target = |t: &Option<String>| t.clone().unwrap_or_else(|| "(all classes)".to_owned());
        check("pathology", target(&self.target), target(&other.target));
        let csv = |t: &Option<String>| t.clone().unwrap_or_else(|| "(none)".to_owned());
        check("labels CSV", csv(&self.labels_csv), csv(&other.labels_csv));
        d
    }

    /// A short digest of what decides the numbers (not the shard or the data path), for file
    /// names.
    pub fn digest(&self) -> String {
        let mut text = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.arch,
            self.weights,
            self.methods.join(","),
            self.gax_steps,
            self.batch,
            self.window,
            self.frame
        );
        for t in [&self.target, &self.labels_csv].into_iter().flatten() {
            text.push('|');
            text.push_str(t);
        }
        crate::model::text_hash(&text).chars().take(8).collect()
    }
}

fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}

fn or_all(shard: &str) -> String {
    if shard.is_empty() { "all".to_owned() } else { shard.to_owned() }
}

fn describe(diffs: &[(&'static str, String, String)]) -> String {
    diffs
        .iter()
        .map(|(f, ours, theirs)| format!("{f}: file has {theirs}, this run {ours}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks that the rows already in `csv` were made by `record`'s run; `has_rows` tells
/// whether the CSV holds any. Refuses a resume that would mix runs.
pub fn check_resume(csv: &Path, record: &RunRecord, has_rows: bool) -> Result<()> {
    match RunRecord::read(csv)? {
        Some(old) => {
            let diffs = record.differences(&old, true);
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(Error::Mismatch {
                    path: csv.to_owned(),
                    message: format!(
                        "its rows come from another run ({}); use another --out, or --overwrite \
                         to start afresh",
                        describe(&diffs)
                    ),
                })
            }
        }
        None if has_rows => Err(Error::Mismatch {
            path: csv.to_owned(),
            message: format!(
                "holds rows but no run record ({}), so it cannot be told whether they come from \
                 this model and settings; use another --out, or --overwrite to start afresh",
                record_path(csv).display()
            ),
        }),
        None => Ok(()),
    }
}

/// The record the merged file of `inputs` gets: every input's record must agree on all but the
/// shard. `None` when no input has one; an error when only some have one or two disagree.
pub fn common(inputs: &[PathBuf]) -> Result<Option<RunRecord>> {
    let mut first: Option<(PathBuf, RunRecord)> = None;
    let mut without = Vec::new();
    for p in inputs {
        match RunRecord::read(p)? {
            None => without.push(p.clone()),
            Some(r) => match &first {
                None => first = Some((p.clone(), r)),
                Some((fp, fr)) => {
                    let diffs = r.differences(fr, false);
                    if !diffs.is_empty() {
                        return Err(Error::Mismatch {
                            path: p.clone(),
                            message: format!(
                                "comes from another run than {} ({})",
                                fp.display(),
                                diffs
                                    .iter()
                                    .map(|(f, a, b)| format!("{f}: {a} vs {b}"))
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            ),
                        });
                    }
                }
            },
        }
    }
    match (first, without.first()) {
        (Some((fp, _)), Some(w)) => Err(Error::Mismatch {
            path: w.clone(),
            message: format!(
                "has no run record while {} has one, so they cannot be told to come from the \
                     same run",
                fp.display()
            ),
        }),
        (Some((_, mut r)), None) => {
            r.shard.clear();
            Ok(Some(r))
        }
        (None, _) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            arch: "alexnet".into(),
            weights: "ab".repeat(32),
            labels: vec!["NORMAL".into(), "PNEUMONIA".into()],
            data: "/d".into(),
            methods: vec!["Saliency".into()],
            gax_steps: 0,
            batch: 4,
            shard: "0/2".into(),
            window: "File".into(),
            frame: 0,
            target: None,
            labels_csv: None,
        }
    }

    #[test]
    fn differences_name_each_field_and_the_shard_only_when_asked() {
        let a = record();
        let b = RunRecord { weights: "cd".repeat(32), shard: "1/2".into(), batch: 8, ..a.clone() };
        let fields: Vec<_> = a.differences(&b, true).into_iter().map(|d| d.0).collect();
        assert_eq!(fields, ["weights (SHA-256)", "batch", "shard"]);
        let fields: Vec<_> = a.differences(&b, false).into_iter().map(|d| d.0).collect();
        assert_eq!(fields, ["weights (SHA-256)", "batch"]);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), RunRecord { shard: String::new(), ..a.clone() }.digest());
    }

    #[test]
    fn resume_and_merge_checks() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let csv = dir.path().join("r.csv");
        let a = record();
        check_resume(&csv, &a, false)?;
        assert!(matches!(check_resume(&csv, &a, true), Err(Error::Mismatch { .. })));
        a.write(&csv)?;
        check_resume(&csv, &a, true)?;
        let b = RunRecord { methods: vec!["DeepLift".into()], ..a.clone() };
        let e =
            check_resume(&csv, &b, true).map(|()| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(e.contains("methods: file has Saliency, this run DeepLift"), "{e}");
        let other = dir.path().join("s.csv");
        RunRecord { shard: "1/2".into(), ..a.clone() }.write(&other)?;
        let merged = common(&[csv.clone(), other.clone()])?;
        assert_eq!(merged.map(|r| r.shard), Some(String::new()));
        b.write(&other)?;
        assert!(matches!(common(&[csv.clone(), other]), Err(Error::Mismatch { .. })));
        assert!(matches!(common(&[csv, dir.path().join("none.csv")]), Err(Error::Mismatch { .. })));
        Ok(())
    }
}

//! One dataset run: the batches of a shard scored with AX (and optionally GAX), appended to the
//! CSV batch by batch so that a rerun resumes, with progress after every batch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::lesion::{self, LesionScore};
use super::record::{RunRecord, record_path};
use super::scan::{Item, scan};
use super::{Row, Summary, rows, stats, write_summary};
use crate::attribution::{Method, Options};
use crate::ax::{self, HeatmapSource, Variant};
use crate::convert::{to_f64, to_i64};
use crate::error::{Error, Result};
use crate::io::image::Image;
use crate::model::Model;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("--shard '{s}': expected I/N with 0 <= I < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// Progress of a dataset run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Images done (this run and earlier runs of the same file).
    pub done: usize,
    /// Images in this shard.
    pub total: usize,
    /// Images per second in this run.
    pub rate: f64,
    /// Seconds left at that rate.
    pub eta: f64,
    /// Batches this run split in two after running out of (GPU) memory.
    pub splits: usize,
}

impl Progress {
    /// The share of images done, 0 to 1 (1 for an empty shard).
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            1.0
        } else {
            crate::convert::to_f32(self.done) / crate::convert::to_f32(self.total)
        }
    }
}

/// Options of a dataset run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Methods to score.
    pub methods: Vec<Method>,
    /// Images per batch. Shards are whole batches of the sorted image list, so a sharded run
    /// sees exactly the batches (and numbers) of an unsharded one with the same batch size.
    pub batch: usize,
    /// Which part of the dataset to process.
    pub shard: Option<Shard>,
    /// The CSV to write (resumed when it exists).
    pub out: PathBuf,
    /// When above 0, GAX also runs on every image (both variants, up to this many steps, the
    /// default target CO) and adds rows with method `GAX` scoring its final heatmap.
    pub gax_steps: usize,
    /// DICOM window and frame, the same for every file.
    pub load: crate::input::LoadOptions,
    /// Start afresh: delete the CSV, its summary and its run record first, instead of resuming.
    pub overwrite: bool,
    /// One output of a multi-label model (a pathology): the data folder has the per-pathology
    /// layout (`PATHOLOGY/positive`, `PATHOLOGY/negative`), labels and predictions are 1/0 for
    /// that output (predicted 1 when its logit is positive), heatmaps explain it and CO weighs
    /// it alone.
    pub target: Option<i64>,
    /// With `target`: a labels CSV (`image,<pathology>,...`, 0/1, paths relative to the data
    /// folder) gives the images and their labels instead of the per-pathology folders.
    pub labels_csv: Option<PathBuf>,
}

/// The batches of `items` this shard processes.
pub fn shard_batches(items: &[Item], batch: usize, shard: Option<Shard>) -> Vec<&[Item]> {
    items
        .chunks(batch.max(1))
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| i % s.count == s.index))
        .map(|(_, c)| c)
        .collect()
}

/// Runs AX over the dataset, appending rows to `opts.out` batch by batch (a rerun skips images
/// already complete), and returns the summary of the whole file.
pub fn run(
    model: &Model,
    dir: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &dyn Fn() -> bool,
) -> Result<Summary> {
    run_with_rows(model, dir, opts, progress, cancel).map(|(summary, _)| summary)
}

/// Like [`run`], also returning every row of the file.
pub fn run_with_rows(
    model: &Model,
    dir: &Path,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
    cancel: &dyn Fn() -> bool,
) -> Result<(Summary, Vec<Row>)> {
    let items = match opts.target {
        Some(t) => {
            let info = model.info();
            let name =
                usize::try_from(t).ok().and_then(|i| info.labels.get(i)).ok_or_else(|| {
                    Error::invalid(format!("output {t} is outside 0..{}", info.classes))
                })?;
            match &opts.labels_csv {
                Some(csv) => super::labels::scan_labels_csv(dir, csv, name)?,
                None => super::scan::scan_pathology(dir, name)?,
            }
        }
        None if opts.labels_csv.is_some() => {
            return Err(Error::invalid(
                "a labels CSV needs the pathology to score (--target PATHOLOGY)",
            ));
        }
        None => scan(dir, &model.info().labels)?,
    };
    let expected = (opts.methods.len() + usize::from(opts.gax_steps > 0)) * 2;
    let record = RunRecord::new(model, dir, opts)?;
    if opts.overwrite {
        for p in [opts.out.clone(), super::summary_path(&opts.out), record_path(&opts.out)] {
            super::remove_if_present(&p)?;
        }
    }
    let existing = if opts.out.exists() { rows::read(&opts.out)? } else { Vec::new() };
    super::record::check_resume(&opts.out, &record, !existing.is_empty())?;
    let done = rows::complete_images(&existing, expected);
    // Rewrite the file without the rows of half-finished images, so no row is duplicated.
    let kept: Vec<Row> = existing.into_iter().filter(|r| done.contains(&r.image)).collect();
    rows::write(&opts.out, &kept)?;
    record.write(&opts.out)?;
    let batches = shard_batches(&items, opts.batch, opts.shard);
    let total: usize = batches.iter().map(|b| b.len()).sum();
    let mut finished =
        batches.iter().flat_map(|b| b.iter()).filter(|it| done.contains(&it.rel)).count();
    let start = Instant::now();
    let mut new_images = 0_usize;
    let mut splits = 0_usize;
    let scoring = Scoring { model, dir, opts, expected, cancel };
    for batch in batches {
        if batch.iter().all(|it| done.contains(&it.rel)) {
            continue;
        }
        if cancel() {
            return Err(Error::Cancelled);
        }
        let mut out = score_split(&scoring, batch, &mut splits)?;
        // Images of this batch already in the file (a cut-off append) keep their rows.
        out.retain(|r| !done.contains(&r.image));
        out.sort_by_cached_key(Row::key);
        rows::append(&opts.out, &out)?;
        let fresh = batch.iter().filter(|it| !done.contains(&it.rel)).count();
        finished += fresh;
        new_images += fresh;
        let rate = to_f64(new_images) / start.elapsed().as_secs_f64().max(1e-9);
        progress(Progress {
            done: finished,
            total,
            rate,
            eta: to_f64(total - finished) / rate.max(1e-9),
            splits,
        });
    }
    let all = rows::read(&opts.out)?;
    let summary = stats::summarise(&all);
    write_summary(&opts.out, &summary)?;
    Ok((summary, all))
}

/// What every batch of one run is scored with.
struct Scoring<'a> {
    model: &'a Model,
    dir: &'a Path,
    opts: &'a RunOptions,
    /// Rows per image.
    expected: usize,
    cancel: &'a dyn Fn() -> bool,
}

/// The rows of one batch; a batch that runs out of memory is split in two and each half scored
/// on its own (down to single images), counting the splits in `splits`.
fn score_split(s: &Scoring<'_>, batch: &[Item], splits: &mut usize) -> Result<Vec<Row>> {
    match score_batch(s, batch) {
        Err(e) if e.is_out_of_memory() && batch.len() > 1 => {
            *splits += 1;
            let (a, b) = batch.split_at(batch.len() / 2);
            let mut rows = score_split(s, a, splits)?;
            rows.extend(score_split(s, b, splits)?);
            Ok(rows)
        }
        r => r,
    }
}

/// The rows of one batch: AX for every method and variant, and GAX when asked for.
fn score_batch(s: &Scoring<'_>, batch: &[Item]) -> Result<Vec<Row>> {
    let Scoring { model, dir, opts, expected, cancel } = *s;
    crate::io::fault::out_of_memory(crate::io::fault::Site::Batch(batch.len()))?;
    let size = model.info().image_size();
    let images: Vec<Image> = batch
        .iter()
        .map(|it| crate::input::load_image_with(&it.path, size, &opts.load))
        .collect::<Result<_>>()?;
    let refs: Vec<&Image> = images.iter().collect();
    let x = crate::input::batch(&refs, model.info().channels, model.device())?;
    // A per-pathology run scores its one output; labels then are the 1/0 of the folders.
    let readout = opts.target.map_or(ax::Readout::ArgMax, ax::Readout::Positive);
    let labels: Vec<i64> = match opts.target {
        Some(t) => vec![t; batch.len()],
        None => batch.iter().map(|it| it.label).collect(),
    };
    let masks = batch_masks(dir, batch, size)?;
    let mut lesions: Vec<Vec<Option<LesionScore>>> = Vec::new();
    let mut on_heatmap = |_: Method, h: &tch::Tensor| -> Result<()> {
        if let Some(m) = &masks {
            lesions.push(lesion::score(h, m)?);
        }
        Ok(())
    };
    let (pred, scores) = ax::ax_batch_read(
        model,
        &x,
        (Some(&labels), readout),
        &opts.methods,
        &Options::default(),
        &mut on_heatmap,
    )?;
    let mut out = Vec::with_capacity(batch.len() * expected);
    for (i, ((it, &p), sc)) in batch.iter().zip(&pred).zip(&scores).enumerate() {
        for (k, s) in sc.iter().enumerate() {
            let les = lesions.get(k).and_then(|v| v.get(i).copied().flatten());
            let method = HeatmapSource::Method(s.method);
            out.push(row(it, p, method, Variant::Sum, s.sum, s.predicted_sum, les));
            out.push(row(it, p, method, Variant::Mult, s.mult, s.predicted_mult, les));
        }
    }
    if opts.gax_steps > 0 {
        for variant in Variant::ALL {
            let finals = super::gax::gax_finals(
                model,
                &x,
                (&labels, readout),
                variant,
                opts.gax_steps,
                cancel,
            )?;
            let les = match &masks {
                Some(m) => lesion::score(&finals.heatmaps, m)?,
                None => vec![None; batch.len()],
            };
            for (i, (it, &p)) in batch.iter().zip(&pred).enumerate() {
                let l = les.get(i).copied().flatten();
                let (co, pa) = (finals.co[i], finals.predicted[i]);
                out.push(row(it, p, HeatmapSource::Gax, variant, co, pa, l));
            }
        }
    }
    Ok(out)
}

/// The lesion masks of a batch as `[B, H, W]`, when at least one image has a mask file (images
/// without one get an empty mask, so they have no localisation metrics).
fn batch_masks(dir: &Path, batch: &[Item], size: [usize; 2]) -> Result<Option<tch::Tensor>> {
    let paths: Vec<Option<PathBuf>> =
        batch.iter().map(|it| lesion::mask_path(dir, &it.rel)).collect();
    if paths.iter().all(Option::is_none) {
        return Ok(None);
    }
    let (h, w) = (to_i64(size[0]), to_i64(size[1]));
    let masks: Vec<tch::Tensor> = paths
        .iter()
        .map(|p| {
            p.as_deref().map_or_else(
                || Ok(tch::Tensor::zeros([h, w], (tch::Kind::Float, tch::Device::Cpu))),
                |p| lesion::load_mask(p, size),
            )
        })
        .collect::<Result<_>>()?;
    Ok(Some(tch::Tensor::stack(&masks, 0)))
}

/// One CSV row of `item`, predicted as `predicted`, for one heatmap source and variant.
fn row(
    item: &Item,
    predicted: i64,
    method: HeatmapSource,
    variant: Variant,
    co: f32,
    predicted_ax: i64,
    lesion: Option<LesionScore>,
) -> Row {
    Row {
        image: item.rel.clone(),
        label: item.label,
        predicted,
        correct: predicted == item.label,
        method,
        variant,
        co,
        predicted_ax: Some(predicted_ax),
        mask_mass: lesion.map(|l| l.mass),
        pointing: lesion.map(|l| l.hit),
    }
}

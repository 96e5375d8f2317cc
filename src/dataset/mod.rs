//! Dataset-wide AX: CO scores over a labelled image folder (one subfolder per class), split by
//! correct vs wrong predictions, with lesion localisation where masks exist and optionally GAX;
//! batched, resumable and shardable.

pub mod lesion;
pub mod rows;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::attribution::{Method, Options};
use crate::ax;
use crate::error::{Error, Result};
use crate::io::image::Image;
use crate::model::Model;

pub use rows::Row;
pub use stats::Summary;

const EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif", "webp"];

/// One image of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Path relative to the data folder, `/`-separated (the CSV's `image`).
    pub rel: String,
    /// Full path.
    pub path: PathBuf,
    /// Class index.
    pub label: i64,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn walk_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in sorted_entries(dir)? {
        if p.is_dir() {
            walk_images(&p, out)?;
        } else if is_image(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Lists an ImageFolder tree. Class indices come from matching subfolder names to the model's
/// labels (case-insensitive) when all of them match, else from the sorted folder names.
pub fn scan(dir: &Path, labels: &[String]) -> Result<Vec<Item>> {
    // `masks/` holds lesion masks beside the class folders (the phantom layout), not a class.
    let folders: Vec<PathBuf> =
        sorted_entries(dir)?.into_iter().filter(|p| p.is_dir() && !p.ends_with("masks")).collect();
    let names: Vec<String> = folders
        .iter()
        .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    if folders.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no class subfolders (expected e.g. NORMAL/ and PNEUMONIA/)",
            dir.display()
        )));
    }
    let by_label: Option<Vec<i64>> = names
        .iter()
        .map(|n| {
            labels
                .iter()
                .position(|l| l.eq_ignore_ascii_case(n))
                .and_then(|i| i64::try_from(i).ok())
        })
        .collect();
    let indices = match by_label {
        Some(v) => v,
        None if names.len() <= labels.len() => {
            (0..names.len()).map(|i| i64::try_from(i).unwrap_or(0)).collect()
        }
        None => {
            return Err(Error::invalid(format!(
                "{}: {} class folders ({}) but the model has {} classes",
                dir.display(),
                names.len(),
                names.join(", "),
                labels.len()
            )));
        }
    };
    let mut items = Vec::new();
    for ((folder, name), label) in folders.iter().zip(&names).zip(indices) {
        let mut files = Vec::new();
        walk_images(folder, &mut files)?;
        for path in files {
            let rel_tail = path
                .strip_prefix(folder)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            items.push(Item { rel: format!("{name}/{rel_tail}"), path, label });
        }
    }
    if items.is_empty() {
        return Err(Error::invalid(format!("{}: no images in the class folders", dir.display())));
    }
    Ok(items)
}

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
}

/// The method name of GAX rows.
pub const GAX: &str = "GAX";

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
    let items = scan(dir, &model.info().labels)?;
    let expected = (opts.methods.len() + usize::from(opts.gax_steps > 0)) * 2;
    let existing = if opts.out.exists() { rows::read(&opts.out)? } else { Vec::new() };
    let done = rows::complete_images(&existing, expected);
    // Rewrite the file without the rows of half-finished images, so no row is duplicated.
    let kept: Vec<Row> = existing.into_iter().filter(|r| done.contains(&r.image)).collect();
    rows::write(&opts.out, &kept)?;
    let batches = shard_batches(&items, opts.batch, opts.shard);
    let total: usize = batches.iter().map(|b| b.len()).sum();
    let mut finished =
        batches.iter().flat_map(|b| b.iter()).filter(|it| done.contains(&it.rel)).count();
    let start = Instant::now();
    let mut new_images = 0_usize;
    let size = model.info().image_size();
    for batch in batches {
        if batch.iter().all(|it| done.contains(&it.rel)) {
            continue;
        }
        if cancel() {
            return Err(Error::Cancelled);
        }
        let images: Vec<Image> = batch
            .iter()
            .map(|it| crate::input::load_image(&it.path, size))
            .collect::<Result<_>>()?;
        let refs: Vec<&Image> = images.iter().collect();
        let x = crate::input::batch(&refs, model.device())?;
        let labels: Vec<i64> = batch.iter().map(|it| it.label).collect();
        let masks = batch_masks(dir, batch, size)?;
        let mut lesions: Vec<Vec<Option<lesion::LesionScore>>> = Vec::new();
        let mut on_heatmap = |_: Method, h: &tch::Tensor| -> Result<()> {
            if let Some(m) = &masks {
                lesions.push(lesion::score(h, m)?);
            }
            Ok(())
        };
        let (pred, scores) = ax::ax_batch_with(
            model,
            &x,
            Some(&labels),
            &opts.methods,
            &Options::default(),
            &mut on_heatmap,
        )?;
        let mut out = Vec::with_capacity(batch.len() * expected);
        for (i, ((it, p), sc)) in batch.iter().zip(&pred).zip(&scores).enumerate() {
            for (k, s) in sc.iter().enumerate() {
                let les = lesions.get(k).and_then(|v| v.get(i).copied().flatten());
                for (variant, co, pa) in
                    [("sum", s.sum, s.predicted_sum), ("mult", s.mult, s.predicted_mult)]
                {
                    out.push(Row {
                        image: it.rel.clone(),
                        label: it.label,
                        predicted: *p,
                        correct: *p == it.label,
                        method: s.method.name().to_owned(),
                        variant: variant.to_owned(),
                        co,
                        predicted_ax: Some(pa),
                        mask_mass: les.map(|l| l.mass),
                        pointing: les.map(|l| l.hit),
                    });
                }
            }
        }
        if opts.gax_steps > 0 {
            for variant in ax::Variant::ALL {
                let finals = gax_finals(model, &x, &labels, variant, opts.gax_steps, cancel)?;
                let les = match &masks {
                    Some(m) => lesion::score(&finals.heatmaps, m)?,
                    None => vec![None; batch.len()],
                };
                for (i, (it, p)) in batch.iter().zip(&pred).enumerate() {
                    let l = les.get(i).copied().flatten();
                    out.push(Row {
                        image: it.rel.clone(),
                        label: it.label,
                        predicted: *p,
                        correct: *p == it.label,
                        method: GAX.to_owned(),
                        variant: variant.name().to_owned(),
                        co: finals.co[i],
                        predicted_ax: Some(finals.predicted[i]),
                        mask_mass: l.map(|l| l.mass),
                        pointing: l.map(|l| l.hit),
                    });
                }
            }
        }
        rows::append(&opts.out, &out)?;
        finished += batch.len();
        new_images += batch.len();
        let rate = new_images as f64 / start.elapsed().as_secs_f64().max(1e-9);
        progress(Progress {
            done: finished,
            total,
            rate,
            eta: (total - finished) as f64 / rate.max(1e-9),
        });
    }
    let all = rows::read(&opts.out)?;
    let summary = stats::summarise(&all);
    write_summary(&opts.out, &summary)?;
    Ok((summary, all))
}

/// The lesion masks of a batch as `[B, H, W]`, when at least one image has a mask file (images
/// without one get an empty mask, so they have no localisation metrics).
fn batch_masks(dir: &Path, batch: &[Item], size: [usize; 2]) -> Result<Option<tch::Tensor>> {
    let paths: Vec<Option<PathBuf>> =
        batch.iter().map(|it| lesion::mask_path(dir, &it.rel)).collect();
    if paths.iter().all(Option::is_none) {
        return Ok(None);
    }
    let (h, w) = (i64::try_from(size[0]).unwrap_or(256), i64::try_from(size[1]).unwrap_or(256));
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

/// The last reported step of each image of a batched GAX run.
struct GaxFinals {
    /// CO of each image's final heatmap.
    co: Vec<f32>,
    /// The prediction on each image's final x'.
    predicted: Vec<i64>,
    /// The final heatmaps, `[B, 3, H, W]` on the CPU.
    heatmaps: tch::Tensor,
}

fn gax_finals(
    model: &Model,
    x: &tch::Tensor,
    labels: &[i64],
    variant: ax::Variant,
    steps: usize,
    cancel: &dyn Fn() -> bool,
) -> Result<GaxFinals> {
    let cfg = crate::gax::GaxConfig {
        max_steps: steps,
        variant,
        top_k: 1,
        ..crate::gax::GaxConfig::default()
    };
    let n = labels.len();
    let mut last: Vec<Option<crate::gax::GaxStep>> = vec![None; n];
    crate::gax::engine::run(model, x, labels, &cfg, cancel, &mut |s| {
        if let Some(slot) = last.get_mut(s.image) {
            *slot = Some(s);
        }
    })?;
    if cancel() {
        return Err(Error::Cancelled);
    }
    let mut co = Vec::with_capacity(n);
    let mut predicted = Vec::with_capacity(n);
    let mut maps = Vec::with_capacity(n);
    for s in last {
        let s = s.ok_or_else(|| Error::invalid("GAX reported no step for an image"))?;
        co.push(s.co);
        predicted.push(s.predicted);
        let (h, w) = (
            i64::try_from(s.heatmap.height).unwrap_or(0),
            i64::try_from(s.heatmap.width).unwrap_or(0),
        );
        maps.push(tch::Tensor::from_slice(&s.heatmap.to_f32()).view([3, h, w]));
    }
    Ok(GaxFinals { co, predicted, heatmaps: tch::Tensor::stack(&maps, 0) })
}

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
            g.method,
            g.variant,
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
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let rows = rows::merge(&refs)?;
    rows::write(out, &rows)?;
    let summary = stats::summarise(&rows);
    write_summary(out, &summary)?;
    Ok(summary)
}

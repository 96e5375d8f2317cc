//! Dataset-wide AX: CO scores over a labelled image folder (one subfolder per class), split by
//! correct vs wrong predictions; batched, resumable and shardable.

pub mod rows;
pub mod stats;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::attribution::{Method, Options};
use crate::ax;
use crate::cli::args::AxArgs;
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
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
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
    let folders: Vec<PathBuf> = sorted_entries(dir)?.into_iter().filter(|p| p.is_dir() && !p.ends_with("masks")).collect();
    let names: Vec<String> = folders.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    if folders.is_empty() {
        return Err(Error::invalid(format!("{}: no class subfolders (expected e.g. NORMAL/ and PNEUMONIA/)", dir.display())));
    }
    let by_label: Option<Vec<i64>> = names
        .iter()
        .map(|n| labels.iter().position(|l| l.eq_ignore_ascii_case(n)).and_then(|i| i64::try_from(i).ok()))
        .collect();
    let indices = match by_label {
        Some(v) => v,
        None if names.len() <= labels.len() => (0..names.len()).map(|i| i64::try_from(i).unwrap_or(0)).collect(),
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
            let rel_tail = path.strip_prefix(folder).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
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
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
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
}

/// The batches of `items` this shard processes.
pub fn shard_batches(items: &[Item], batch: usize, shard: Option<Shard>) -> Vec<&[Item]> {
    items.chunks(batch.max(1)).enumerate().filter(|(i, _)| shard.is_none_or(|s| i % s.count == s.index)).map(|(_, c)| c).collect()
}

/// Runs AX over the dataset, appending rows to `opts.out` batch by batch (a rerun skips images
/// already complete), and returns the summary of the whole file.
pub fn run(model: &Model, dir: &Path, opts: &RunOptions, progress: &mut dyn FnMut(Progress), cancel: &dyn Fn() -> bool) -> Result<Summary> {
    run_with_rows(model, dir, opts, progress, cancel).map(|(summary, _)| summary)
}

/// Like [`run`], also returning every row of the file.
pub fn run_with_rows(model: &Model, dir: &Path, opts: &RunOptions, progress: &mut dyn FnMut(Progress), cancel: &dyn Fn() -> bool) -> Result<(Summary, Vec<Row>)> {
    let items = scan(dir, &model.info().labels)?;
    let expected = opts.methods.len() * 2;
    let existing = if opts.out.exists() { rows::read(&opts.out)? } else { Vec::new() };
    let done = rows::complete_images(&existing, expected);
    // Rewrite the file without the rows of half-finished images, so no row is duplicated.
    let kept: Vec<Row> = existing.into_iter().filter(|r| done.contains(&r.image)).collect();
    rows::write(&opts.out, &kept)?;
    let batches = shard_batches(&items, opts.batch, opts.shard);
    let total: usize = batches.iter().map(|b| b.len()).sum();
    let mut finished = batches.iter().flat_map(|b| b.iter()).filter(|it| done.contains(&it.rel)).count();
    let start = Instant::now();
    let mut new_images = 0_usize;
    let [h, w] = model.info().input_size;
    let size = [usize::try_from(h).unwrap_or(256), usize::try_from(w).unwrap_or(256)];
    for batch in batches {
        if batch.iter().all(|it| done.contains(&it.rel)) {
            continue;
        }
        if cancel() {
            return Err(Error::Cancelled);
        }
        let images: Vec<Image> = batch.iter().map(|it| Image::load(&it.path, size)).collect::<Result<_>>()?;
        let refs: Vec<&Image> = images.iter().collect();
        let x = Image::batch(&refs, model.device())?;
        let labels: Vec<i64> = batch.iter().map(|it| it.label).collect();
        let (pred, scores) = ax::ax_batch(model, &x, Some(&labels), &opts.methods, &Options::default())?;
        let mut out = Vec::with_capacity(batch.len() * expected);
        for ((it, p), sc) in batch.iter().zip(&pred).zip(&scores) {
            for s in sc {
                for (variant, co, pa) in [("sum", s.sum, s.predicted_sum), ("mult", s.mult, s.predicted_mult)] {
                    out.push(Row {
                        image: it.rel.clone(),
                        label: it.label,
                        predicted: *p,
                        correct: *p == it.label,
                        method: s.method.name().to_owned(),
                        variant: variant.to_owned(),
                        co,
                        predicted_ax: Some(pa),
                    });
                }
            }
        }
        rows::append(&opts.out, &out)?;
        finished += batch.len();
        new_images += batch.len();
        let rate = new_images as f64 / start.elapsed().as_secs_f64().max(1e-9);
        progress(Progress { done: finished, total, rate, eta: (total - finished) as f64 / rate.max(1e-9) });
    }
    let all = rows::read(&opts.out)?;
    let summary = stats::summarise(&all);
    write_summary(&opts.out, &summary)?;
    Ok((summary, all))
}

/// The summary file beside a CSV: `results.csv` → `results.summary.json`.
pub fn summary_path(csv: &Path) -> PathBuf {
    csv.with_extension("summary.json")
}

/// Writes the summary JSON beside `csv`.
pub fn write_summary(csv: &Path, summary: &Summary) -> Result<()> {
    let p = summary_path(csv);
    let text = serde_json::to_string_pretty(summary).map_err(|e| Error::format(&p, e.to_string()))?;
    crate::io::write_atomic(&p, (text + "\n").as_bytes())
}

/// The statistics table as text, for the terminal.
pub fn table(summary: &Summary) -> String {
    let mut s = format!("{} images, accuracy {:.4}\n", summary.images, summary.accuracy);
    s.push_str("method          variant  n_ok  med_ok   n_wrong med_wrong  gap      AUROC   acc_after_AX\n");
    for g in &summary.groups {
        s.push_str(&format!(
            "{:15} {:7} {:5} {:8.3} {:7} {:9.3} {:8.3} {:7.3} {:.4}\n",
            g.method, g.variant, g.correct.count, g.correct.median, g.wrong.count, g.wrong.median, g.gap, g.auroc, g.accuracy_after_ax
        ));
    }
    s
}

/// `ax --data DIR`.
pub fn run_cli(model: &Model, dir: &Path, methods: &[Method], args: &AxArgs) -> Result<()> {
    let opts = RunOptions {
        methods: methods.to_vec(),
        batch: args.batch.max(1),
        shard: args.shard.as_deref().map(Shard::parse).transpose()?,
        out: args.out.clone().unwrap_or_else(|| PathBuf::from("ax_results.csv")),
    };
    let mut report = |p: Progress| {
        eprint!("\r{}/{} images  {:.2} images/s  {:.0} s left   ", p.done, p.total, p.rate, p.eta);
        let _ = std::io::stderr().flush();
    };
    let summary = run(model, dir, &opts, &mut report, &|| false)?;
    eprintln!();
    print!("{}", table(&summary));
    eprintln!("rows in {}, summary in {}", opts.out.display(), summary_path(&opts.out).display());
    Ok(())
}

/// `merge OUT IN...`: combines shard CSVs into one sorted CSV and its summary.
pub fn merge_cli(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    if inputs.is_empty() {
        return Err(Error::invalid("merge needs at least one input CSV"));
    }
    let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let rows = rows::merge(&refs)?;
    rows::write(out, &rows)?;
    let summary = stats::summarise(&rows);
    write_summary(out, &summary)?;
    print!("{}", table(&summary));
    Ok(())
}

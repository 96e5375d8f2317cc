//! Writing a phantom data set to disk: option checks, the split and class division, the folder
//! layout (ImageFolder-style class folders, masks in a sibling `masks/` tree) and the parallel
//! writer.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::rng::{hash_str, mix};
use super::{PhantomOptions, generate};
use crate::convert::{cell_index, to_f64};
use crate::error::{Error, Result};

/// Class folder names, NORMAL first.
const CLASSES: [&str; 2] = ["NORMAL", "PNEUMONIA"];

/// How many images one split received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitSummary {
    /// The split name ("" when written without split folders).
    pub name: String,
    /// NORMAL images.
    pub normal: usize,
    /// PNEUMONIA images.
    pub pneumonia: usize,
    /// Images (of either class) that carry a distractor.
    pub distractors: usize,
}

/// What [`write_dataset`] wrote, per split and class.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// One entry per split, in the order given (a single unnamed one without splits).
    pub splits: Vec<SplitSummary>,
}

impl Summary {
    /// All images written.
    pub fn total(&self) -> usize {
        self.splits.iter().map(|s| s.normal + s.pneumonia).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let normal: usize = self.splits.iter().map(|s| s.normal).sum();
        let pneumonia: usize = self.splits.iter().map(|s| s.pneumonia).sum();
        let distractors: usize = self.splits.iter().map(|s| s.distractors).sum();
        write!(
            f,
            "{} images ({normal} NORMAL, {pneumonia} PNEUMONIA, {distractors} with distractors)",
            self.total()
        )?;
        let named: Vec<String> = self
            .splits
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| format!("{} {}/{}", s.name, s.normal, s.pneumonia))
            .collect();
        if !named.is_empty() {
            write!(f, "; NORMAL/PNEUMONIA per split: {}", named.join(", "))?;
        }
        Ok(())
    }
}

/// One image to write.
struct Job {
    split: usize,
    index: usize,
    pneumonia: bool,
}

/// Checks the options.
fn validate(opts: &PhantomOptions) -> Result<()> {
    let f = opts.pneumonia_fraction;
    if !f.is_finite() || !(0.0..=1.0).contains(&f) {
        return Err(Error::invalid(format!(
            "the pneumonia fraction must be between 0 and 1, not {f}"
        )));
    }
    if opts.count == 0 {
        return Err(Error::invalid("the image count must be at least 1"));
    }
    for (i, s) in opts.splits.iter().enumerate() {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(Error::invalid(format!(
                "split name {s:?}: use letters, digits, '_' or '-'"
            )));
        }
        if s.eq_ignore_ascii_case("masks") || CLASSES.iter().any(|c| s.eq_ignore_ascii_case(c)) {
            return Err(Error::invalid(format!("split name {s:?} is reserved")));
        }
        if opts.splits[..i].contains(s) {
            return Err(Error::invalid(format!("split {s:?} is named twice")));
        }
    }
    Ok(())
}

/// Images per split: train 70 % / val 15 % / test 15 % when exactly those three are named,
/// otherwise as equal as possible (earlier splits take the remainder).
fn split_counts(count: usize, splits: &[String]) -> Vec<usize> {
    if splits.is_empty() {
        return vec![count];
    }
    let mut names: Vec<&str> = splits.iter().map(String::as_str).collect();
    names.sort_unstable();
    if names == ["test", "train", "val"] {
        let small = (count * 15 + 50) / 100;
        return splits
            .iter()
            .map(
                |s| {
                    if s == "train" {
                        count - 2 * small.min(count / 2)
                    } else {
                        small.min(count / 2)
                    }
                },
            )
            .collect();
    }
    let k = splits.len();
    (0..k).map(|i| count / k + usize::from(i < count % k)).collect()
}

/// Whether image `i` of `n` is PNEUMONIA when `p` of them are: spread evenly, exactly `p`.
fn is_pneumonia(i: usize, n: usize, p: usize) -> bool {
    // u128 keeps the products exact for any usize.
    let (i, n, p) = (i as u128, n as u128, p as u128);
    (i + 1) * p / n > i * p / n
}

/// The seed `generate` receives for images of `split` ("" for none).
fn split_seed(seed: u64, split: &str) -> u64 {
    if split.is_empty() { seed } else { mix(seed, hash_str(split)) }
}

/// Writes a PNG data set of phantoms under `out`.
///
/// With splits: `out/<split>/<CLASS>/phantom_<split>_<index:05>.png`, masks in
/// `out/masks/<split>/<CLASS>/` under the same name. Without: `out/<CLASS>/phantom_<index:05>.png`
/// and `out/masks/<CLASS>/`. Image `index` of a split is `generate(key, index, class)` with
/// `key` derived from the seed and the split name (the seed itself without splits), so the
/// output is identical whatever the thread count.
pub fn write_dataset(out: &Path, opts: &PhantomOptions) -> Result<Summary> {
    write_dataset_until(out, opts, &|| false)
}

/// Like [`write_dataset`], stopping with [`Error::Cancelled`] (files written so far stay) as
/// soon as `cancel` returns true; the writer threads check it before every image.
pub fn write_dataset_until(
    out: &Path,
    opts: &PhantomOptions,
    cancel: &(dyn Fn() -> bool + Sync),
) -> Result<Summary> {
    validate(opts)?;
    let names: Vec<String> =
        if opts.splits.is_empty() { vec![String::new()] } else { opts.splits.clone() };
    let counts = split_counts(opts.count, &opts.splits);
    let mut jobs = Vec::with_capacity(opts.count);
    let mut summary = Summary::default();
    for (split, (name, &n)) in names.iter().zip(&counts).enumerate() {
        // Rounded fraction of at most `n` images.
        let p = cell_index((to_f64(n) * f64::from(opts.pneumonia_fraction)).round(), n + 1);
        for class in CLASSES {
            for root in [out.join(name), out.join("masks").join(name)] {
                let dir = root.join(class);
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
        }
        jobs.extend((0..n).map(|index| Job { split, index, pneumonia: is_pneumonia(index, n, p) }));
        summary.splits.push(SplitSummary {
            name: name.clone(),
            normal: n - p,
            pneumonia: p,
            distractors: 0,
        });
    }
    let paths = |job: &Job| -> (PathBuf, PathBuf) {
        let name = &names[job.split];
        let file = if name.is_empty() {
            format!("phantom_{:05}.png", job.index)
        } else {
            format!("phantom_{name}_{:05}.png", job.index)
        };
        let class = CLASSES[usize::from(job.pneumonia)];
        (
            out.join(name).join(class).join(&file),
            out.join("masks").join(name).join(class).join(&file),
        )
    };
    let seeds: Vec<u64> = names.iter().map(|n| split_seed(opts.seed, n)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(1, 8)
        .min(jobs.len().max(1));
    let results: Vec<Result<Vec<usize>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<usize>> {
                    let mut with_distractor = Vec::new();
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(j) else { break };
                        if failed.load(Ordering::Relaxed) {
                            break;
                        }
                        if cancel() {
                            failed.store(true, Ordering::Relaxed);
                            return Err(Error::Cancelled);
                        }
                        let phantom = generate(seeds[job.split], job.index as u64, job.pneumonia);
                        let (image, mask) = paths(job);
                        if let Err(e) = phantom.save(&image, &mask) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        if phantom.distractor {
                            with_distractor.push(j);
                        }
                    }
                    Ok(with_distractor)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Err(Error::invalid("a phantom writer thread panicked")))
            })
            .collect()
    });
    for r in results {
        for j in r? {
            if let Some(job) = jobs.get(j) {
                summary.splits[job.split].distractors += 1;
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_class_division() {
        let tvt: Vec<String> = ["train", "val", "test"].map(String::from).to_vec();
        assert_eq!(split_counts(5000, &tvt), vec![3500, 750, 750]);
        assert_eq!(split_counts(10, &tvt), vec![6, 2, 2]);
        assert_eq!(split_counts(1, &tvt), vec![1, 0, 0]);
        assert_eq!(split_counts(7, &["a".into(), "b".into()]), vec![4, 3]);
        assert_eq!(split_counts(7, &[]), vec![7]);
        for (n, p) in [(10, 5), (7, 3), (3, 0), (4, 4), (1, 1)] {
            assert_eq!((0..n).filter(|&i| is_pneumonia(i, n, p)).count(), p);
        }
    }
}

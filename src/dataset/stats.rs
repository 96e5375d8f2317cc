//! Summary statistics of CO scores split by correct vs wrong predictions: quartiles, the gap
//! between medians, the AUROC of CO as a correctness indicator, accuracy before and after AX.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rows::Row;
use crate::ax::{HeatmapSource, Variant};
use crate::convert::{cell_index, to_f64};

/// Five numbers of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Quartiles {
    /// Sample size.
    pub count: usize,
    /// 25th percentile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub q3: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The p-quantile of sorted values, linear interpolation (NumPy's default).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * to_f64(sorted.len() - 1);
    let lo = cell_index(pos, sorted.len());
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - to_f64(lo))
}

impl Quartiles {
    /// Quartiles of `values` (NaN values are left out).
    pub fn of(values: &[f64]) -> Self {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            // An empty group has no median: NaN (null in the JSON summary), never a fake 0.
            return Self {
                count: 0,
                q1: f64::NAN,
                median: f64::NAN,
                q3: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        Self {
            count: v.len(),
            q1: quantile(&v, 0.25),
            median: quantile(&v, 0.5),
            q3: quantile(&v, 0.75),
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// AUROC of `score` separating positives from negatives (ties count one half); NaN when either
/// group is empty.
pub fn auroc(positives: &[f64], negatives: &[f64]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> =
        positives.iter().map(|&v| (v, true)).chain(negatives.iter().map(|&v| (v, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney U from mid-ranks.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let mid = to_f64(i + j) / 2.0 + 1.0;
        rank_sum += to_f64(all[i..=j].iter().filter(|e| e.1).count()) * mid;
        i = j + 1;
    }
    let (np, nn) = (to_f64(positives.len()), to_f64(negatives.len()));
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// Statistics of one (method, variant).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupStats {
    /// The method (or GAX).
    pub method: HeatmapSource,
    /// How the heatmaps were combined with the images.
    pub variant: Variant,
    /// CO of correctly predicted images.
    pub correct: Quartiles,
    /// CO of wrongly predicted images.
    pub wrong: Quartiles,
    /// median(correct) − median(wrong).
    pub gap: f64,
    /// AUROC of CO as an indicator of a correct prediction.
    pub auroc: f64,
    /// Accuracy of the model on x' (prediction on the augmented input equals the label).
    pub accuracy_after_ax: f64,
    /// Images with a lesion mask (the localisation metrics below are over these).
    pub lesion_images: usize,
    /// Mean share of positive heatmap mass inside the lesion mask (NaN without masks).
    pub mask_mass: f64,
    /// Pointing-game hit rate: the heatmap's maximum inside the lesion mask (NaN without masks).
    pub pointing: f64,
}

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of images.
    pub images: usize,
    /// Accuracy before AX.
    pub accuracy: f64,
    /// One entry per (method, variant), in method order.
    pub groups: Vec<GroupStats>,
}

/// CO values of correct and wrong images, rows seen, and rows whose x' prediction is the label.
#[derive(Default)]
struct Acc {
    correct: Vec<f64>,
    wrong: Vec<f64>,
    total: usize,
    hits: usize,
    mass: Vec<f64>,
    pointing: Vec<bool>,
}

/// Computes the summary from CSV rows.
pub fn summarise(rows: &[Row]) -> Summary {
    let mut images: BTreeMap<&str, bool> = BTreeMap::new();
    // Groups in method order, then by variant name (mult before sum), as the CSV is sorted.
    let mut groups: BTreeMap<(HeatmapSource, &str, Variant), Acc> = BTreeMap::new();
    for r in rows {
        images.insert(&r.image, r.correct);
        let g = groups.entry((r.method, r.variant.name(), r.variant)).or_default();
        if r.correct {
            g.correct.push(f64::from(r.co))
        } else {
            g.wrong.push(f64::from(r.co))
        }
        g.total += 1;
        if r.predicted_ax == Some(r.label) {
            g.hits += 1;
        }
        if let Some(m) = r.mask_mass {
            g.mass.push(f64::from(m));
        }
        if let Some(p) = r.pointing {
            g.pointing.push(p);
        }
    }
    let n = images.len();
    let correct = images.values().filter(|c| **c).count();
    let groups = groups
        .into_iter()
        .map(|((method, _, variant), Acc { correct: c, wrong: w, total, hits, mass, pointing })| {
            let (qc, qw) = (Quartiles::of(&c), Quartiles::of(&w));
            let finite: Vec<f64> = mass.iter().copied().filter(|m| m.is_finite()).collect();
            let mean = |n: f64, d: usize| if d == 0 { f64::NAN } else { n / to_f64(d) };
            GroupStats {
                method,
                variant,
                gap: qc.median - qw.median,
                auroc: auroc(&c, &w),
                accuracy_after_ax: mean(to_f64(hits), total),
                lesion_images: pointing.len(),
                mask_mass: mean(finite.iter().sum(), finite.len()),
                pointing: mean(to_f64(pointing.iter().filter(|p| **p).count()), pointing.len()),
                correct: qc,
                wrong: qw,
            }
        })
        .collect();
    Summary {
        images: n,
        accuracy: if n == 0 { f64::NAN } else { to_f64(correct) / to_f64(n) },
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_like_numpy() {
        let q = Quartiles::of(&[1.0, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!((q.count, q.q1, q.median, q.q3), (4, 1.75, 2.5, 3.25));
    }

    #[test]
    fn auroc_cases() {
        assert_eq!(auroc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auroc(&[1.0, 2.0], &[3.0, 4.0]), 0.0);
        assert_eq!(auroc(&[1.0], &[1.0]), 0.5);
        assert!((auroc(&[1.0, 3.0], &[2.0]) - 0.5).abs() < 1e-12);
        assert!(auroc(&[], &[1.0]).is_nan());
    }
}

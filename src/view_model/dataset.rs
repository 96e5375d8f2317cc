//! The dataset tab as data: the statistics of the shown variant, box-plot positions, the CO
//! histogram of one method split by correct vs wrong, and the picked images. Built once per
//! dataset run, variant, method or pick, not every frame.

use super::timeline::Axis;
use crate::app::state::{DatasetPick, DatasetState};
use crate::ax::{HeatmapSource, Variant};
use crate::convert::{cell_index, to_f64};
use crate::dataset::stats::{GroupStats, Quartiles};

/// Histogram bins.
const BINS: usize = 20;
/// Method `i` has its correct box at `x = 3i` and its wrong box at `3i + 1`.
const BOX_STRIDE: f64 = 3.0;

/// What the tab shows; the view is rebuilt only when it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetKey {
    revision: u64,
    variant: Variant,
    method: Option<HeatmapSource>,
    pick: Option<DatasetPick>,
}

impl DatasetKey {
    /// The key of what `state` shows.
    pub fn of(state: &DatasetState) -> Self {
        Self {
            revision: state.revision,
            variant: state.variant,
            method: state.method,
            pick: state.pick.clone(),
        }
    }
}

/// One box of the box plot.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStat {
    /// Its position on the x axis.
    pub x: f64,
    /// The method (or GAX).
    pub method: HeatmapSource,
    /// Correctly (true) or wrongly predicted images.
    pub correct: bool,
    /// The five numbers.
    pub q: Quartiles,
}

/// CO counts of one method in equal bins, correct and wrong images apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// The method (or GAX).
    pub method: HeatmapSource,
    /// The left edge of the first bin.
    pub lo: f64,
    /// The width of every bin.
    pub width: f64,
    /// Correctly predicted images per bin.
    pub correct: Vec<f64>,
    /// Wrongly predicted images per bin.
    pub wrong: Vec<f64>,
}

impl Histogram {
    /// Bins `(correct, wrong)` CO values between their minimum and maximum (non-finite values
    /// left out); `None` without a finite value.
    pub fn of(method: HeatmapSource, correct: &[f64], wrong: &[f64]) -> Option<Self> {
        let finite = || correct.iter().chain(wrong).copied().filter(|v| v.is_finite());
        let lo = finite().reduce(f64::min)?;
        let hi = finite().fold(lo, f64::max);
        let width = ((hi - lo) / to_f64(BINS)).max(1e-9);
        let count = |vals: &[f64]| {
            let mut h = vec![0.0; BINS];
            for v in vals.iter().filter(|v| v.is_finite()) {
                h[cell_index((v - lo) / width, BINS)] += 1.0;
            }
            h
        };
        Some(Self { method, lo, width, correct: count(correct), wrong: count(wrong) })
    }

    /// The centre of bin `i`.
    pub fn centre(&self, i: usize) -> f64 {
        self.lo + (to_f64(i) + 0.5) * self.width
    }

    /// The pick of a click at `x`: this method's images in the bin under it (the last bin
    /// closed on the right), correct ones where they are at least as many as wrong ones.
    pub fn pick_at(&self, x: f64) -> DatasetPick {
        let b = cell_index((x - self.lo) / self.width, BINS);
        let lo = self.lo + to_f64(b) * self.width;
        let hi = lo + self.width + if b == BINS - 1 { 1e-9 } else { 0.0 };
        let correct = self.correct[b] >= self.wrong[b];
        DatasetPick { method: self.method, correct, range: Some((lo, hi)) }
    }
}

/// A picked image: its path in the dataset, CO and label.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedImage {
    /// Path relative to the data folder.
    pub image: String,
    /// Its CO for the picked method and variant.
    pub co: f32,
    /// Its ground-truth class.
    pub label: i64,
}

/// The dataset tab of the last run.
#[derive(Debug, Clone)]
pub struct DatasetView {
    /// What it shows.
    pub key: DatasetKey,
    /// Statistics of the shown variant, one group per method.
    pub groups: Vec<GroupStats>,
    /// Statistics of every method and variant, for the table.
    pub all_groups: Vec<GroupStats>,
    /// The methods of those groups, in order.
    pub methods: Vec<HeatmapSource>,
    /// The boxes: correct and wrong for every method with images of that kind.
    pub boxes: Vec<BoxStat>,
    /// The y axis that shows every box whole, if any value is finite.
    pub y_axis: Option<Axis>,
    /// The histogram of the chosen method (the first one by default).
    pub histogram: Option<Histogram>,
    /// Whether any group has lesion metrics.
    pub lesions: bool,
    /// The picked group, if any.
    pub pick: Option<DatasetPick>,
    /// Its images, best CO first.
    pub picked: Vec<PickedImage>,
}

impl DatasetView {
    /// The x position of method `i`'s name label under its boxes.
    pub fn label_x(i: usize) -> f64 {
        BOX_STRIDE * to_f64(i) + 0.5
    }

    /// The pick of a click at `x` on the box plot: the method whose boxes are there, correct
    /// images left of the middle, wrong ones right of it.
    pub fn box_at(&self, x: f64) -> Option<DatasetPick> {
        let slot = (x / BOX_STRIDE).floor();
        if !(0.0..to_f64(self.methods.len())).contains(&slot) {
            return None;
        }
        let method = *self.methods.get(cell_index(slot, self.methods.len()))?;
        let correct = x - BOX_STRIDE * slot < 0.5;
        Some(DatasetPick { method, correct, range: None })
    }
}

/// The boxes of `groups` (one variant's): correct and wrong for every method with images of
/// that kind, method `i` at `x = 3i` (correct) and `3i + 1` (wrong).
pub fn boxes_of(groups: &[GroupStats]) -> Vec<BoxStat> {
    let mut boxes = Vec::new();
    for correct in [true, false] {
        for (i, g) in groups.iter().enumerate() {
            let q = if correct { g.correct } else { g.wrong };
            if q.count > 0 {
                let x = BOX_STRIDE * to_f64(i) + if correct { 0.0 } else { 1.0 };
                boxes.push(BoxStat { x, method: g.method, correct, q });
            }
        }
    }
    boxes
}

/// The y axis that shows every box whole, whiskers included, with round ticks (at least
/// three) and headroom at both ends; `None` without a finite value.
pub fn box_axis(boxes: &[BoxStat]) -> Option<Axis> {
    let values = || boxes.iter().flat_map(|b| [b.q.min, b.q.max]).filter(|v| v.is_finite());
    values().next()?;
    Some(Axis::holding(values()))
}

/// The method whose boxes sit around axis position `x` (a grid mark), if `x` is a label
/// position ([`DatasetView::label_x`]).
pub fn method_at_mark(methods: &[HeatmapSource], x: f64) -> Option<HeatmapSource> {
    let i = ((x - 0.5) / BOX_STRIDE).round();
    if !(0.0..to_f64(methods.len())).contains(&i) {
        return None;
    }
    let i = cell_index(i, methods.len());
    ((DatasetView::label_x(i) - x).abs() < 1e-6).then(|| methods.get(i).copied()).flatten()
}

/// A method's name short enough to sit under its boxes on a laptop screen.
pub fn short_name(m: HeatmapSource) -> &'static str {
    use crate::attribution::Method;
    match m {
        HeatmapSource::Gax => "GAX",
        HeatmapSource::Method(Method::InputXGradient) => "InputXGrad",
        HeatmapSource::Method(Method::LayerGradCam) => "GradCAM",
        HeatmapSource::Method(Method::Deconvolution) => "Deconv",
        HeatmapSource::Method(Method::GuidedBackprop) => "GuidedBP",
        HeatmapSource::Method(m) => m.name(),
    }
}

/// Builds the view of `key` from the tab's state, or `None` before the first run finished.
pub fn build(state: &DatasetState, key: DatasetKey) -> Option<DatasetView> {
    let summary = state.summary.as_ref()?;
    let groups: Vec<GroupStats> =
        summary.groups.iter().filter(|g| g.variant == key.variant).cloned().collect();
    let methods: Vec<HeatmapSource> = groups.iter().map(|g| g.method).collect();
    let boxes = boxes_of(&groups);
    let y_axis = box_axis(&boxes);
    let histogram = key.method.or_else(|| methods.first().copied()).and_then(|method| {
        let values = |correct: bool| -> Vec<f64> {
            state
                .rows
                .iter()
                .filter(|r| r.method == method && r.variant == key.variant && r.correct == correct)
                .map(|r| f64::from(r.co))
                .collect()
        };
        Histogram::of(method, &values(true), &values(false))
    });
    let picked = state
        .picked_rows()
        .into_iter()
        .map(|r| PickedImage { image: r.image.clone(), co: r.co, label: r.label })
        .collect();
    Some(DatasetView {
        lesions: summary.groups.iter().any(|g| g.lesion_images > 0),
        all_groups: summary.groups.clone(),
        pick: key.pick.clone(),
        key,
        groups,
        methods,
        boxes,
        y_axis,
        histogram,
        picked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::Method;

    #[test]
    fn histogram_bins_and_picks() {
        let m = HeatmapSource::Method(Method::Saliency);
        let h = Histogram::of(m, &[0.0, 1.0, 1.0, f64::NAN], &[20.0, 19.5]).expect("values");
        assert_eq!((h.lo, h.width), (0.0, 1.0));
        assert_eq!(h.correct.iter().sum::<f64>(), 3.0);
        assert_eq!((h.correct[0], h.correct[1], h.wrong[19]), (1.0, 2.0, 2.0));
        assert_eq!(h.centre(2), 2.5);
        let p = h.pick_at(1.2);
        assert_eq!((p.method, p.correct, p.range), (m, true, Some((1.0, 2.0))));
        let last = h.pick_at(25.0);
        assert!(!last.correct && last.range.is_some_and(|(a, b)| a == 19.0 && b > 20.0));
        assert!(Histogram::of(m, &[], &[f64::INFINITY]).is_none());
    }

    #[test]
    fn boxes_are_picked_by_position() {
        let methods = vec![HeatmapSource::Method(Method::DeepLift), HeatmapSource::Gax];
        let view = DatasetView {
            key: DatasetKey { revision: 0, variant: Variant::Sum, method: None, pick: None },
            groups: Vec::new(),
            all_groups: Vec::new(),
            methods: methods.clone(),
            boxes: Vec::new(),
            y_axis: None,
            histogram: None,
            lesions: false,
            pick: None,
            picked: Vec::new(),
        };
        let pick = |x| view.box_at(x).map(|p| (p.method, p.correct));
        assert_eq!(pick(0.2), Some((methods[0], true)));
        assert_eq!(pick(1.1), Some((methods[0], false)));
        assert_eq!(pick(3.4), Some((methods[1], true)));
        assert_eq!(pick(4.0), Some((methods[1], false)));
        assert_eq!(pick(7.0), None);
        assert_eq!(pick(-1.0), None);
        assert_eq!(method_at_mark(&methods, 3.5), Some(methods[1]));
        assert_eq!((method_at_mark(&methods, 2.0), method_at_mark(&methods, 6.5)), (None, None));
    }

    #[test]
    fn the_y_axis_holds_every_whisker() {
        let q = |min, max| Quartiles { count: 3, q1: min, median: min, q3: max, min, max };
        let m = HeatmapSource::Method(Method::Saliency);
        let b = |x, q| BoxStat { x, method: m, correct: true, q };
        let a = box_axis(&[b(0.0, q(-2.0, 8.0)), b(1.0, q(1.0, 30.0))]).expect("axis");
        assert!(a.min < -2.0 && a.max > 30.0 && a.max < 45.0, "{a:?}");
        assert!(a.ticks.len() >= 3);
        let a = box_axis(&[b(0.0, q(5.0, 5.0))]).expect("one value");
        assert!(a.min < 5.0 && a.max > 5.0);
        assert!(box_axis(&[b(0.0, q(f64::NAN, f64::NAN))]).is_none());
    }
}

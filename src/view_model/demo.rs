//! The demo's results as data: per shipped model, the gap table of the shown variant and its
//! box plot, side by side. Built once per result or variant change.

use super::dataset::{BoxStat, box_axis, boxes_of};
use super::timeline::Axis;
use crate::app::demo::DemoState;
use crate::ax::{HeatmapSource, Variant};
use crate::dataset::stats::GroupStats;

/// What the demo shows; the view is rebuilt only when it changes.
pub type DemoKey = (u64, Variant);

/// One model's column.
#[derive(Debug, Clone)]
pub struct DemoPanel {
    /// The model's name ("well-trained", "under-trained").
    pub name: String,
    /// Its card's file name.
    pub card: String,
    /// Images scored.
    pub images: usize,
    /// Accuracy on them.
    pub accuracy: f64,
    /// Correctly and wrongly predicted images.
    pub correct: usize,
    /// See `correct`.
    pub wrong: usize,
    /// The statistics of the shown variant, one group per method.
    pub groups: Vec<GroupStats>,
    /// Those groups' methods.
    pub methods: Vec<HeatmapSource>,
    /// Their boxes.
    pub boxes: Vec<BoxStat>,
    /// The y axis showing every box whole.
    pub y_axis: Option<Axis>,
}

/// The demo's results.
#[derive(Debug, Clone)]
pub struct DemoView {
    /// What it shows.
    pub key: DemoKey,
    /// One panel per finished model, in model order.
    pub panels: Vec<DemoPanel>,
}

/// Builds the demo view of `state` in `variant`.
pub fn build(state: &DemoState, variant: Variant) -> DemoView {
    let panels = state
        .results
        .iter()
        .map(|r| {
            let s = &r.summary;
            let groups: Vec<GroupStats> =
                s.groups.iter().filter(|g| g.variant == variant).cloned().collect();
            let boxes = boxes_of(&groups);
            // Every method scores every image: the first group's counts are the model's.
            let (correct, wrong) =
                groups.first().map_or((0, 0), |g| (g.correct.count, g.wrong.count));
            DemoPanel {
                name: r.name.clone(),
                card: r.card.clone(),
                images: s.images,
                accuracy: s.accuracy,
                correct,
                wrong,
                methods: groups.iter().map(|g| g.method).collect(),
                y_axis: box_axis(&boxes),
                boxes,
                groups,
            }
        })
        .collect();
    DemoView { key: (state.revision, variant), panels }
}

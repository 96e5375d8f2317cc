//! Small images beside the view: the method comparison's channel-sum tiles (the six methods and
//! the GAX heatmap at the selected step, each on its own scale or on one shared scale) and the
//! image list's thumbnails, each built once per change of what they show.

use std::sync::Arc;

use egui::ColorImage;

use super::planes::{abs_max, channel_sum, thumbnail};
use crate::app::state::{AppState, CompareScale, ImageEntry};
use crate::ax::HeatmapSource;
use crate::colormap;

/// One tile in the comparison: a method's (or GAX's) channel-sum heatmap and its CO scores.
#[derive(Debug, Clone)]
pub struct Tile {
    /// The method, or GAX.
    pub source: HeatmapSource,
    /// The title, e.g. `Saliency` or `GAX step 12`.
    pub title: String,
    /// The tile's content id (changes whenever its pixels do).
    pub id: u64,
    /// The channel sum on the scale ±`scale`.
    pub image: Arc<ColorImage>,
    /// The colour scale; 0 for an all-zero map (drawn blank and flagged).
    pub scale: f32,
    /// The CO scores, short enough for a tile: `CO 1.234 | 0.567` (x + h | x ⊙ h) for a
    /// method, `CO 12.345` for GAX (its run's variant).
    pub scores: String,
}

/// What [`comparison`] shows: the image, its results' ids, the GAX run and step, and the scale.
pub fn comparison_key(state: &AppState) -> Option<Vec<u64>> {
    let e = state.current_entry()?;
    let mut key: Vec<u64> = e.attributions.values().map(|a| a.id).collect();
    if key.is_empty() {
        return Some(key);
    }
    key.push(u64::from(state.compare_scale == CompareScale::Shared));
    if let Some(step) = gax_step(state) {
        key.extend([e.run_id, u64::try_from(step).unwrap_or(u64::MAX)]);
    }
    Some(key)
}

/// The GAX step the comparison shows: the selected one, within the run.
fn gax_step(state: &AppState) -> Option<usize> {
    let run = state.current_run()?;
    let last = run.heatmaps.len().checked_sub(1)?;
    Some(state.timeline.selected.min(last))
}

/// The comparison tiles of the current image: its methods' results in method order, then the
/// GAX heatmap at the selected step when there is a run. Empty without method results (there
/// is nothing to compare).
pub fn comparison(state: &AppState, first_id: u64) -> Vec<Tile> {
    let Some(entry) = state.current_entry() else { return Vec::new() };
    if entry.attributions.is_empty() {
        return Vec::new();
    }
    let (h, w) = (entry.image.height, entry.image.width);
    let mut maps: Vec<(HeatmapSource, String, Vec<f32>, String)> = entry
        .attributions
        .iter()
        .map(|(m, a)| {
            let scores = format!("CO {:.3} | {:.3}", a.co_sum, a.co_mult);
            (HeatmapSource::Method(*m), m.name().to_owned(), channel_sum(&a.heatmap, h * w), scores)
        })
        .collect();
    let method_max = maps.iter().fold(0.0_f32, |m, t| m.max(abs_max(&t.2)));
    if let (Some(run), Some(step)) = (&entry.run, gax_step(state)) {
        let co = run.steps.get(step).map_or(f32::NAN, |s| s.co);
        let sum = channel_sum(&run.heatmaps[step].to_f32(), h * w);
        maps.push((HeatmapSource::Gax, format!("GAX step {step}"), sum, format!("CO {co:.3}")));
    }
    maps.into_iter()
        .zip(first_id..)
        .map(|((source, title, sum, scores), id)| {
            let own = abs_max(&sum);
            let scale = match state.compare_scale {
                CompareScale::Shared if method_max > 0.0 => method_max,
                _ => own,
            };
            let shown = if own > 0.0 { scale } else { 0.0 };
            // An all-zero map is drawn white on any scale; signed_plane takes 0 as 1.
            let image = Arc::new(colormap::signed_plane(&sum, w, h, shown));
            Tile { source, title, id, image, scale: shown, scores }
        })
        .collect()
}

/// An image list entry's thumbnail.
#[derive(Debug, Clone)]
pub struct Thumb {
    /// The image's id (the thumbnail's content id).
    pub image_id: u64,
    /// About 48 pixels across.
    pub image: Arc<ColorImage>,
}

/// Thumbnails of `images`, reusing those of `old` whose image is unchanged.
pub fn thumbnails(images: &[ImageEntry], old: &[Thumb]) -> Vec<Thumb> {
    images
        .iter()
        .map(|e| {
            old.iter().find(|t| t.image_id == e.image_id).cloned().unwrap_or_else(|| {
                let full = colormap::rgb(&e.image.data, e.image.width, e.image.height);
                Thumb { image_id: e.image_id, image: Arc::new(thumbnail(&full, 48)) }
            })
        })
        .collect()
}

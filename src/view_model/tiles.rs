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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::AttributionResult;
    use crate::attribution::Method;
    use crate::gax::compact::CompactHeatmap;
    use crate::gax::{GaxConfig, GaxStep};
    use crate::io::image::Image;
    use crate::io::runfile::{ModelIdentity, RunRecord};

    /// A 2×1 image with two methods' maps (channel sums ±0.3 and ±3) and a 2-step GAX run.
    fn state() -> AppState {
        let image = Image { width: 2, height: 1, data: vec![0.5; 6] };
        let mut e = ImageEntry::new("x.png".into(), Arc::new(image.clone()), 1);
        let result = |id, v: f32, zero| AttributionResult {
            id,
            target: 0,
            heatmap: Arc::new(vec![v, -v, 0.0, 0.0, 0.0, 0.0]),
            raw_abs_max: 1.0,
            co_sum: 1.0,
            co_mult: 2.0,
            zero,
        };
        e.attributions.insert(Method::Saliency, result(2, 0.3, false));
        e.attributions.insert(Method::DeepLift, result(3, 3.0, false));
        e.attributions.insert(Method::Deconvolution, result(4, 0.0, true));
        let mut run =
            RunRecord::new(GaxConfig::default(), image, "x".into(), 0, ModelIdentity::default());
        for (step, v) in [0.5_f32, -1.5].into_iter().enumerate() {
            run.push(GaxStep {
                image: 0,
                step,
                co: 10.0 * v,
                loss: 0.0,
                similarity: 0.0,
                abs_max: v.abs(),
                predicted: 0,
                top: Vec::new(),
                heatmap: CompactHeatmap::from_f32(1, 2, &[v, 0.0, 0.0, 0.0, 0.0, 0.0]),
            });
        }
        e.run = Some(Arc::new(run));
        e.run_id = 5;
        AppState { images: vec![e], current: Some(0), ..AppState::default() }
    }

    #[test]
    fn each_map_on_its_own_scale_or_one_shared_and_gax_at_the_selected_step() {
        let mut s = state();
        s.timeline.selected = 1;
        let tiles = comparison(&s, 10);
        let names: Vec<&str> = tiles.iter().map(|t| t.source.name()).collect();
        assert_eq!(names, ["Saliency", "Deconvolution", "DeepLift", "GAX"]);
        let scales: Vec<f32> = tiles.iter().map(|t| t.scale).collect();
        assert_eq!(scales, [0.3, 0.0, 3.0, 1.5], "own scales; the all-zero map is flagged");
        // On its own scale a weak map is as saturated as a strong one.
        assert_eq!(tiles[0].image.pixels[0], tiles[2].image.pixels[0]);
        assert_eq!(
            (tiles[3].title.as_str(), tiles[3].scores.as_str()),
            ("GAX step 1", "CO -15.000")
        );
        assert_eq!(tiles.iter().map(|t| t.id).collect::<Vec<_>>(), [10, 11, 12, 13]);
        s.compare_scale = CompareScale::Shared;
        let shared = comparison(&s, 20);
        let scales: Vec<f32> = shared.iter().map(|t| t.scale).collect();
        assert_eq!(scales, [3.0, 0.0, 3.0, 3.0], "the methods' largest max |sum|");
        assert_ne!(shared[0].image.pixels[0], shared[2].image.pixels[0]);
        let key = comparison_key(&s);
        s.timeline.selected = 0;
        assert_ne!(comparison_key(&s), key, "another GAX step is another comparison");
        assert_eq!(comparison(&s, 30)[3].title, "GAX step 0");
    }
}

//! Small images beside the view: the method comparison's channel-sum tiles and the image
//! list's thumbnails, each built once per attribution result or image.

use std::sync::Arc;

use egui::ColorImage;

use super::planes::{channel_sum, thumbnail};
use crate::app::state::ImageEntry;
use crate::attribution::Method;
use crate::colormap;

/// One method's tile in the comparison: its channel-sum heatmap on its own scale (±max |sum|,
/// as AX normalises each map by its own maximum) and CO scores.
#[derive(Debug, Clone)]
pub struct Tile {
    /// The method.
    pub method: Method,
    /// The attribution result's id (the tile's content id).
    pub id: u64,
    /// The channel sum on the scale ±`scale`.
    pub image: Arc<ColorImage>,
    /// max |channel sum|; 0 for an all-zero map (drawn blank and flagged).
    pub scale: f32,
    /// CO with x + h.
    pub co_sum: f32,
    /// CO with x ⊙ h.
    pub co_mult: f32,
}

/// The ids of what [`comparison`] shows for `entry`.
pub fn comparison_key(entry: &ImageEntry) -> Vec<u64> {
    entry.attributions.values().map(|a| a.id).collect()
}

/// The comparison tiles of `entry`'s attribution results, in method order.
pub fn comparison(entry: &ImageEntry) -> Vec<Tile> {
    let (h, w) = (entry.image.height, entry.image.width);
    entry
        .attributions
        .iter()
        .map(|(m, a)| {
            let sum = channel_sum(&a.heatmap, h * w);
            let scale =
                sum.iter().fold(0.0_f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
            let shown = if scale > 0.0 { scale } else { 1.0 };
            Tile {
                method: *m,
                id: a.id,
                image: Arc::new(colormap::signed_plane(&sum, w, h, shown)),
                scale,
                co_sum: a.co_sum,
                co_mult: a.co_mult,
            }
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

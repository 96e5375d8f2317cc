//! Colour maps for signed heatmaps (negative blue, zero white, positive red) and magnitude maps,
//! producing `egui::ColorImage`, the one egui type the engine side uses.

use egui::{Color32, ColorImage};

/// The diverging colour of `v` in [−1, 1] (clamped): blue → white → red, like matplotlib's `bwr`.
pub fn diverging(v: f32) -> Color32 {
    let v = if v.is_finite() { v.clamp(-1.0, 1.0) } else { 0.0 };
    let c = |t: f32| to_byte(255.0 * (1.0 - t));
    if v >= 0.0 { Color32::from_rgb(255, c(v), c(v)) } else { Color32::from_rgb(c(-v), c(-v), 255) }
}

/// The sequential colour of `v` in [0, 1] (clamped): white → red, like matplotlib's `Reds`.
pub fn sequential(v: f32) -> Color32 {
    let v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
    Color32::from_rgb(
        to_byte(255.0 - 152.0 * v),
        to_byte(245.0 * (1.0 - v)),
        to_byte(240.0 * (1.0 - v)),
    )
}

use crate::convert::{cell_index, to_byte, to_f32};

/// A `[h, w]` plane of values mapped with `diverging(v / scale)`.
pub fn signed_plane(values: &[f32], w: usize, h: usize, scale: f32) -> ColorImage {
    let s = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let px = values.iter().take(w * h).map(|&v| diverging(v / s)).collect();
    ColorImage::new([w, h], px)
}

/// A `[h, w]` plane of non-negative values mapped with `sequential(v / scale)`.
pub fn magnitude_plane(values: &[f32], w: usize, h: usize, scale: f32) -> ColorImage {
    let s = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let px = values.iter().take(w * h).map(|&v| sequential(v / s)).collect();
    ColorImage::new([w, h], px)
}

/// A `[h, w]` plane of signed values as a translucent layer to lay over an image: the
/// `diverging(v / scale)` colour at an opacity that grows with |v| / scale up to `opacity`, so
/// where the heatmap is near zero the image shows through.
pub fn signed_layer(values: &[f32], w: usize, h: usize, scale: f32, opacity: f32) -> ColorImage {
    let s = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let a = opacity.clamp(0.0, 1.0);
    let px = values
        .iter()
        .take(w * h)
        .map(|&v| {
            let c = diverging(v / s);
            let t = if v.is_finite() { (v.abs() / s).min(1.0) } else { 0.0 };
            Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), to_byte(255.0 * a * t))
        })
        .collect();
    ColorImage::new([w, h], px)
}

/// The q-quantile (0..=1) of |values|.
pub fn abs_quantile(values: &[f32], q: f32) -> f32 {
    let mut a: Vec<f32> = values.iter().map(|v| v.abs()).filter(|v| v.is_finite()).collect();
    if a.is_empty() {
        return 0.0;
    }
    let k = cell_index(f64::from((to_f32(a.len() - 1) * q.clamp(0.0, 1.0)).round()), a.len());
    let (_, v, _) = a.select_nth_unstable_by(k, f32::total_cmp);
    *v
}

/// An RGB image `[3, h, w]` in [0, 1] blended with a signed heatmap plane at `opacity`.
pub fn overlay(
    image: &[f32],
    heat: &[f32],
    w: usize,
    h: usize,
    scale: f32,
    opacity: f32,
) -> ColorImage {
    let n = w * h;
    let s = if scale > 0.0 && scale.is_finite() { scale } else { 1.0 };
    let a = opacity.clamp(0.0, 1.0);
    let px = (0..n)
        .map(|i| {
            let hc = diverging(heat.get(i).copied().unwrap_or(0.0) / s);
            let mix = |c: usize, hv: u8| {
                to_byte(
                    (1.0 - a) * 255.0 * image.get(c * n + i).copied().unwrap_or(0.0)
                        + a * f32::from(hv),
                )
            };
            Color32::from_rgb(mix(0, hc.r()), mix(1, hc.g()), mix(2, hc.b()))
        })
        .collect();
    ColorImage::new([w, h], px)
}

/// A grey plane `[h, w]` with values clamped to [0, 1] for display (a 1-channel model's input).
pub fn grey(plane: &[f32], w: usize, h: usize) -> ColorImage {
    let px = (0..w * h)
        .map(|i| Color32::from_gray(to_byte(255.0 * plane.get(i).copied().unwrap_or(0.0))))
        .collect();
    ColorImage::new([w, h], px)
}

/// An RGB image `[3, h, w]` with values clamped to [0, 1] for display.
pub fn rgb(image: &[f32], w: usize, h: usize) -> ColorImage {
    let n = w * h;
    let px = (0..n)
        .map(|i| {
            let c = |k: usize| to_byte(255.0 * image.get(k * n + i).copied().unwrap_or(0.0));
            Color32::from_rgb(c(0), c(1), c(2))
        })
        .collect();
    ColorImage::new([w, h], px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_ends() {
        assert_eq!(diverging(0.0), Color32::WHITE);
        assert_eq!(diverging(1.0), Color32::from_rgb(255, 0, 0));
        assert_eq!(diverging(-1.0), Color32::from_rgb(0, 0, 255));
        assert_eq!(diverging(5.0), diverging(1.0));
        assert_eq!(diverging(f32::NAN), Color32::WHITE);
    }

    #[test]
    fn quantile() {
        let v: Vec<f32> = (0..101_u8).map(|i| -f32::from(i)).collect();
        assert_eq!(abs_quantile(&v, 0.99), 99.0);
        assert_eq!(abs_quantile(&v, 1.0), 100.0);
        assert_eq!(abs_quantile(&[], 0.5), 0.0);
    }
}

//! Pixel maths on planar `[C, H, W]` values (C = 3, or 1 for a 1-channel model): the channel
//! sum, the grey plane a 1-channel model sees, the model's input x' = x + h or x ⊙ h, the change
//! between steps, read-outs and thumbnails. Pure functions, no egui widgets.

use egui::ColorImage;

use crate::ax::Variant;
use crate::convert::{cell_index, to_f64};

/// The number of whole `n`-value planes in `v` (0 when `n` is 0).
pub fn planes(v: &[f32], n: usize) -> usize {
    v.len().checked_div(n).unwrap_or(0)
}

/// Σ_c v[c] of a planar `[C, n]` array over its whole planes, one value per pixel (`n`
/// values; a 1-channel array is its own sum, a trailing partial plane is left out).
pub fn channel_sum(v: &[f32], n: usize) -> Vec<f32> {
    let mut sum = vec![0.0; n];
    for plane in v.chunks_exact(n.max(1)).take(planes(v, n)) {
        for (s, x) in sum.iter_mut().zip(plane) {
            *s += x;
        }
    }
    sum
}

/// The grey plane a 1-channel model is given for an RGB image `[3, n]`, as
/// `input::to_channels` makes it: the plane itself where the three agree, else their mean.
pub fn grey(image: &[f32], n: usize) -> Vec<f32> {
    let at = |k: usize| image.get(k).copied().unwrap_or(0.0);
    (0..n)
        .map(|i| {
            let (r, g, b) = (at(i), at(n + i), at(2 * n + i));
            if r == g && g == b { r } else { (r + g + b) / 3.0 }
        })
        .collect()
}

/// The model's input x' for image `x` and heatmap `h` (same layout).
pub fn model_input(variant: Variant, x: &[f32], h: &[f32]) -> Vec<f32> {
    match variant {
        Variant::Sum => x.iter().zip(h).map(|(x, h)| x + h).collect(),
        Variant::Mult => x.iter().zip(h).map(|(x, h)| x * h).collect(),
    }
}

/// |next − current| element by element.
pub fn abs_change(current: &[f32], next: &[f32]) -> Vec<f32> {
    next.iter().zip(current).map(|(a, b)| (a - b).abs()).collect()
}

/// max |v| (0 for no values; NaN is skipped).
pub fn abs_max(v: &[f32]) -> f32 {
    v.iter().fold(0.0_f32, |m, x| m.max(x.abs()))
}

/// The pixel `(x, y)` of a `w × h` plane at fractions `(fx, fy)` of its width and height
/// (clamped to the plane), or `None` for an empty plane.
pub fn pixel_at(fx: f32, fy: f32, w: usize, h: usize) -> Option<(usize, usize)> {
    (w > 0 && h > 0).then(|| {
        (cell_index(f64::from(fx) * to_f64(w), w), cell_index(f64::from(fy) * to_f64(h), h))
    })
}

/// Every `step`-th pixel of `image` in both directions (`step` = the larger side / `side`,
/// at least 1): a thumbnail at most about `side` pixels across.
pub fn thumbnail(image: &ColorImage, side: usize) -> ColorImage {
    let [w, h] = image.size;
    let step = (w.max(h) / side.max(1)).max(1);
    let (tw, th) = (w.div_ceil(step), h.div_ceil(step));
    let px = (0..th)
        .flat_map(|y| (0..tw).map(move |x| (x, y)))
        .map(|(x, y)| image.pixels[(y * step) * w + x * step])
        .collect();
    ColorImage::new([tw, th], px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_inputs_and_changes() {
        // Two pixels, three channels.
        let h = [1.0, -2.0, 0.5, 0.5, 0.25, 4.0];
        assert_eq!(channel_sum(&h, 2), vec![1.75, 2.5]);
        // One channel is its own sum; a partial plane is left out, never a panic.
        assert_eq!(channel_sum(&h[..2], 2), vec![1.0, -2.0]);
        assert_eq!(channel_sum(&h[..5], 2), vec![1.5, -1.5]);
        assert_eq!(channel_sum(&h, 0), Vec::<f32>::new());
        assert_eq!((planes(&h, 2), planes(&h[..2], 2), planes(&h, 0)), (3, 1, 0));
        // The grey plane: the plane where R = G = B, else the mean.
        assert_eq!(grey(&[0.5, 0.25, 0.5, 0.5, 0.5, 0.0], 2), vec![0.5, 0.25]);
        let x = [0.5_f32; 6];
        assert_eq!(model_input(Variant::Sum, &x, &h)[1], -1.5);
        assert_eq!(model_input(Variant::Mult, &x, &h)[5], 2.0);
        assert_eq!(abs_change(&h, &[0.0; 6]), vec![1.0, 2.0, 0.5, 0.5, 0.25, 4.0]);
        assert_eq!(abs_max(&h), 4.0);
        assert_eq!(abs_max(&[]), 0.0);
    }

    #[test]
    fn pixels_and_thumbnails() {
        assert_eq!(pixel_at(0.0, 0.0, 4, 2), Some((0, 0)));
        assert_eq!(pixel_at(0.99, 0.5, 4, 2), Some((3, 1)));
        assert_eq!(pixel_at(1.0, 1.0, 4, 2), Some((3, 1)));
        assert_eq!(pixel_at(0.5, 0.5, 0, 2), None);
        let px = (0..100_u8).map(egui::Color32::from_gray).collect();
        let img = ColorImage::new([10, 10], px);
        let t = thumbnail(&img, 4);
        // Every second pixel of every second row.
        assert_eq!(t.size, [5, 5]);
        assert_eq!(t.pixels[6], egui::Color32::from_gray(22));
        assert_eq!(thumbnail(&img, 48).size, [10, 10]);
    }
}

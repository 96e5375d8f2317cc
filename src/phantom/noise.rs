//! Image formation after the attenuation map: exposure (brightness), contrast (gamma), the
//! anode heel gradient, a small Gaussian blur and Poisson-like quantum noise with film grain.

use super::SIZE;
use super::rng::Rng;
use crate::convert::{cell_index, to_f32};

/// Entries of the tone look-up tables.
const LUT: usize = 2048;
/// Attenuation covered by the film curve table (higher values saturate).
const MAX_DENSITY: f32 = 4.0;

/// Linear interpolation in a table sampled evenly over [0, `max`].
fn lookup(table: &[f32], v: f32, max: f32) -> f32 {
    let last = to_f32(table.len() - 1);
    let x = (v / max).clamp(0.0, 1.0) * last;
    let i = cell_index(f64::from(x), table.len() - 1);
    let f = x - to_f32(i);
    table[i] + f * (table[i + 1] - table[i])
}

/// How one image was exposed and developed.
#[derive(Debug, Clone)]
pub(crate) struct Exposure {
    /// Attenuation → film brightness (before gain and offset), tabulated over [0, MAX_DENSITY].
    curve: Vec<f32>,
    /// Brightness → displayed brightness (the gamma), tabulated over [0, 1].
    gamma_lut: Vec<f32>,
    gain: f32,
    offset: f32,
    /// Brightness change from top to bottom (anode heel effect).
    heel: f32,
    /// Blur standard deviation in pixels.
    pub(crate) blur: f32,
    /// Quantum noise level and the share of spatially correlated grain.
    noise: f32,
    grain: f32,
}

impl Exposure {
    /// Samples exposure, contrast, blur and noise for one image.
    pub(crate) fn sample(rng: &mut Rng) -> Self {
        let k = rng.range(1.3, 1.7);
        let norm = 1.0 / (1.0 - (-k * 1.7).exp());
        let gamma = rng.range(0.8, 1.35);
        let step = 1.0 / to_f32(LUT - 1);
        let curve =
            (0..LUT).map(|i| (1.0 - (-k * MAX_DENSITY * to_f32(i) * step).exp()) * norm).collect();
        let gamma_lut = (0..LUT).map(|i| (to_f32(i) * step).powf(gamma)).collect();
        Self {
            curve,
            gamma_lut,
            gain: rng.range(0.88, 1.03),
            offset: rng.range(-0.04, 0.04),
            heel: rng.range(-0.06, 0.06),
            blur: rng.range(0.55, 1.15),
            noise: rng.range(0.01, 0.035),
            grain: rng.range(0.2, 0.7),
        }
    }

    /// Display brightness (0..1, bright = dense) of attenuation `density` at normalised image
    /// height `ny` (-1 top, 1 bottom).
    pub(crate) fn tone(&self, density: f32, ny: f32) -> f32 {
        let v = lookup(&self.curve, density, MAX_DENSITY);
        let v = (self.offset + self.gain * v) * (1.0 + self.heel * ny);
        lookup(&self.gamma_lut, v, 1.0)
    }

    /// Adds quantum noise to `image`: white noise plus blurred (correlated) grain, stronger in
    /// bright (dense, photon-starved) regions.
    pub(crate) fn add_noise(&self, rng: &mut Rng, image: &mut [f32]) {
        let white: Vec<f32> = (0..image.len()).map(|_| rng.grain()).collect();
        let mut grain = white.clone();
        gaussian_blur(&mut grain, 0.9);
        // A σ = 0.9 blur leaves white noise with std ≈ 1 / (2·√π·σ) ≈ 0.31.
        let (a, b) = (self.noise * (1.0 - self.grain), self.noise * self.grain / 0.31);
        for ((v, w), g) in image.iter_mut().zip(&white).zip(&grain) {
            let level = 0.4 + 0.9 * *v;
            *v += level * (a * w + b * g);
        }
    }
}

/// Separable Gaussian blur of a `SIZE × SIZE` image in place, edges clamped.
pub(crate) fn gaussian_blur(image: &mut [f32], sigma: f32) {
    if sigma <= 0.05 || image.len() != SIZE * SIZE {
        return;
    }
    // The radius is a few pixels.
    let radius = cell_index(f64::from((3.0 * sigma).ceil()), 17).max(1);
    let kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = to_f32(i) - to_f32(radius);
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let mut tmp = vec![0.0_f32; SIZE * SIZE];
    let last = SIZE - 1;
    // Each row, padded with its edge values, then one vectorisable pass per kernel tap.
    let mut padded = vec![0.0_f32; SIZE + 2 * radius];
    for y in 0..SIZE {
        let row = &image[y * SIZE..(y + 1) * SIZE];
        for (i, p) in padded.iter_mut().enumerate() {
            *p = row[i.saturating_sub(radius).min(last)];
        }
        let out = &mut tmp[y * SIZE..(y + 1) * SIZE];
        out.fill(0.0);
        for (i, k) in kernel.iter().enumerate() {
            for (o, s) in out.iter_mut().zip(&padded[i..i + SIZE]) {
                *o += k * s;
            }
        }
    }
    for y in 0..SIZE {
        let out = &mut image[y * SIZE..(y + 1) * SIZE];
        out.fill(0.0);
        for (i, k) in kernel.iter().enumerate() {
            let yy = (y + i).saturating_sub(radius).min(last);
            let src = &tmp[yy * SIZE..(yy + 1) * SIZE];
            for (o, s) in out.iter_mut().zip(src) {
                *o += k * s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_constants_and_mass() {
        let mut img = vec![0.5_f32; SIZE * SIZE];
        gaussian_blur(&mut img, 1.0);
        assert!(img.iter().all(|v| (v - 0.5).abs() < 1e-5));
        let mut img = vec![0.0_f32; SIZE * SIZE];
        img[128 * SIZE + 128] = 1.0;
        gaussian_blur(&mut img, 1.0);
        let sum: f32 = img.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4 && img[128 * SIZE + 128] < 0.5);
    }
}

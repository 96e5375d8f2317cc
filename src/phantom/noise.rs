//! Image formation after the attenuation map: exposure (brightness), contrast (gamma), the
//! anode heel gradient, a small Gaussian blur and Poisson-like quantum noise with film grain.

use super::SIZE;
use super::rng::Rng;

/// How one image was exposed and developed.
#[derive(Debug, Clone)]
pub(crate) struct Exposure {
    /// Attenuation → brightness curve steepness, and its normaliser.
    k: f32,
    norm: f32,
    gain: f32,
    offset: f32,
    gamma: f32,
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
        Self {
            k,
            norm: 1.0 / (1.0 - (-k * 1.7).exp()),
            gain: rng.range(0.88, 1.03),
            offset: rng.range(-0.04, 0.04),
            gamma: rng.range(0.8, 1.35),
            heel: rng.range(-0.06, 0.06),
            blur: rng.range(0.55, 1.15),
            noise: rng.range(0.01, 0.035),
            grain: rng.range(0.2, 0.7),
        }
    }

    /// Display brightness (0..1, bright = dense) of attenuation `density` at normalised image
    /// height `ny` (-1 top, 1 bottom).
    pub(crate) fn tone(&self, density: f32, ny: f32) -> f32 {
        let v = (1.0 - (-self.k * density.max(0.0)).exp()) * self.norm;
        let v = (self.offset + self.gain * v) * (1.0 + self.heel * ny);
        v.clamp(0.0, 1.0).powf(self.gamma)
    }

    /// Adds quantum noise to `image`: white noise plus blurred (correlated) grain, stronger in
    /// bright (dense, photon-starved) regions.
    pub(crate) fn add_noise(&self, rng: &mut Rng, image: &mut [f32]) {
        let mut white = vec![0.0_f32; image.len()];
        for pair in white.chunks_mut(2) {
            let (a, b) = rng.normal_pair();
            pair[0] = a;
            if let Some(v) = pair.get_mut(1) {
                *v = b;
            }
        }
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
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let radius = ((3.0 * sigma).ceil() as usize).clamp(1, 16);
    let kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let d = i as f32 - radius as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let mut tmp = vec![0.0_f32; SIZE * SIZE];
    let last = SIZE - 1;
    for y in 0..SIZE {
        let row = &image[y * SIZE..(y + 1) * SIZE];
        let out = &mut tmp[y * SIZE..(y + 1) * SIZE];
        for (x, o) in out.iter_mut().enumerate() {
            let mut s = 0.0;
            for (i, k) in kernel.iter().enumerate() {
                let xx = (x + i).saturating_sub(radius).min(last);
                s += k * row[xx];
            }
            *o = s;
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

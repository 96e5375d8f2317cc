//! Where things sit: the pixel grid, the film frame and the patient's posture (rotation, shift,
//! scale) as affine maps between pixels and the canonical body coordinates.

use super::SIZE;
use super::rng::Rng;
use crate::convert::{cell_index, to_f32};

/// Half the canvas in pixels: canonical and film units span [-1, 1] across the image.
// SIZE is 256, exactly representable.
const HALF: f32 = to_f32(SIZE) / 2.0;

/// A 2-D affine map `p ↦ M·p + t`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Affine {
    m: [f32; 4],
    t: [f32; 2],
}

impl Affine {
    /// The identity map.
    pub(crate) const IDENTITY: Self = Self { m: [1.0, 0.0, 0.0, 1.0], t: [0.0, 0.0] };

    /// A rotation by `angle` radians followed by a translation.
    fn rotation(angle: f32, shift: [f32; 2]) -> Self {
        let (s, c) = angle.sin_cos();
        Self { m: [c, -s, s, c], t: shift }
    }

    /// Applies the map.
    pub(crate) fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.m[0] * p[0] + self.m[1] * p[1] + self.t[0],
            self.m[2] * p[0] + self.m[3] * p[1] + self.t[1],
        ]
    }

    /// `self ∘ other`: first `other`, then `self`.
    fn then_after(&self, other: &Self) -> Self {
        let [a, b, c, d] = self.m;
        let [e, f, g, h] = other.m;
        Self {
            m: [a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h],
            t: [
                a * other.t[0] + b * other.t[1] + self.t[0],
                c * other.t[0] + d * other.t[1] + self.t[1],
            ],
        }
    }

    /// Uniform scaling by `k`.
    fn scale(k: f32) -> Self {
        Self { m: [k, 0.0, 0.0, k], t: [0.0, 0.0] }
    }

    /// The inverse map (the identity when singular, which the sampled postures never are).
    fn inverse(&self) -> Self {
        let [a, b, c, d] = self.m;
        let det = a * d - b * c;
        if det.abs() < 1e-12 {
            return Self::IDENTITY;
        }
        let m = [d / det, -b / det, -c / det, a / det];
        let t = [-(m[0] * self.t[0] + m[1] * self.t[1]), -(m[2] * self.t[0] + m[3] * self.t[1])];
        Self { m, t }
    }
}

/// Normalised image coordinates of pixel (x, y)'s centre, in [-1, 1].
// Pixel indices are below 256.
pub(crate) fn pixel_to_unit(x: usize, y: usize) -> [f32; 2] {
    [(to_f32(x) + 0.5) / HALF - 1.0, (to_f32(y) + 0.5) / HALF - 1.0]
}

/// Fractional pixel coordinates of a normalised image point.
pub(crate) fn unit_to_pixel(p: [f32; 2]) -> [f32; 2] {
    [(p[0] + 1.0) * HALF - 0.5, (p[1] + 1.0) * HALF - 0.5]
}

/// Canonical units per pixel at scale 1.
pub(crate) const PIXEL: f32 = 1.0 / HALF;

/// The film frame and the posture of one image.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Image coordinates → film coordinates (identity unless the film itself is rotated).
    to_film: Affine,
    /// Image coordinates → canonical body coordinates.
    to_body: Affine,
    /// Canonical body coordinates → image coordinates.
    from_body: Affine,
    /// Whether the film is tilted, leaving an empty wedge on one side.
    pub(crate) tilted: bool,
}

impl Frame {
    /// Samples a posture: small rotation, shift and scale; with `tilted`, also a rotated and
    /// shifted film that leaves an empty (black) band on one side.
    pub(crate) fn sample(rng: &mut Rng, tilted: bool) -> Self {
        let angle = rng.range(-3.0, 3.0).to_radians();
        let shift = [rng.range(-0.05, 0.05), rng.range(-0.05, 0.06)];
        let scale = rng.range(0.9, 1.04);
        // Body → film: scale, rotate, shift.
        let body_to_film = Affine::rotation(angle, shift).then_after(&Affine::scale(scale));
        let film_to_image = if tilted {
            let a = rng.signed_range(6.0, 13.0).to_radians();
            let sx = rng.signed_range(0.1, 0.22);
            let sy = rng.range(-0.06, 0.06);
            // Shrink a little so that the tilted film still covers most of the canvas.
            Affine::rotation(a, [sx, sy]).then_after(&Affine::scale(rng.range(0.9, 0.98)))
        } else {
            Affine::IDENTITY
        };
        let from_body = film_to_image.then_after(&body_to_film);
        Self { to_film: film_to_image.inverse(), to_body: from_body.inverse(), from_body, tilted }
    }

    /// Canonical body coordinates of pixel (x, y).
    pub(crate) fn body_at(&self, x: usize, y: usize) -> [f32; 2] {
        self.to_body.apply(pixel_to_unit(x, y))
    }

    /// Whether pixel (x, y) lies on the film (always, unless tilted).
    pub(crate) fn on_film(&self, x: usize, y: usize) -> bool {
        if !self.tilted {
            return true;
        }
        let q = self.to_film.apply(pixel_to_unit(x, y));
        q[0].abs() <= 1.0 && q[1].abs() <= 1.0
    }

    /// The nearest pixel to canonical point `p`, if it is on the canvas.
    pub(crate) fn pixel_of(&self, p: [f32; 2]) -> Option<(usize, usize)> {
        let [fx, fy] = self.pixel_f(p);
        let (rx, ry) = (fx.round(), fy.round());
        let max = to_f32(SIZE - 1);
        if !(0.0..=max).contains(&rx) || !(0.0..=max).contains(&ry) {
            return None;
        }
        Some((cell_index(f64::from(rx), SIZE), cell_index(f64::from(ry), SIZE)))
    }

    /// Fractional pixel coordinates of canonical point `p`.
    pub(crate) fn pixel_f(&self, p: [f32; 2]) -> [f32; 2] {
        unit_to_pixel(self.from_body.apply(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_and_pixel_maps_invert() {
        let mut rng = Rng::new(11);
        for tilted in [false, true] {
            let f = Frame::sample(&mut rng, tilted);
            for (x, y) in [(0, 0), (17, 200), (128, 128), (255, 3)] {
                let p = f.body_at(x, y);
                let q = f.pixel_f(p);
                assert!(
                    (q[0] - to_f32(x)).abs() < 1e-3 && (q[1] - to_f32(y)).abs() < 1e-3,
                    "{q:?} vs {x},{y}"
                );
            }
        }
    }
}

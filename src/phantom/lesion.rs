//! Pneumonia consolidations: how many, where (always centred on a visible pixel inside a lung
//! field), their lobar, noise-edged shape and their patchy texture with air bronchograms.

use super::anatomy::Anatomy;
use super::geometry::{Frame, PIXEL};
use super::rng::{Noise, Rng};
use super::{SIZE, smoothstep, sq};

/// Distance a lesion centre keeps from the lung edge (canonical units).
const MARGIN: f32 = 0.05;

/// Least visible consolidation area of a PNEUMONIA image in pixels: 1.5 % of the film, about
/// 31 × 31. Smaller opacities read as nodules, not lobar consolidation, and a model cannot be
/// expected to find them at a demo model's 128 × 128 input.
pub(crate) const MIN_PIXELS: usize = SIZE * SIZE * 3 / 200;

/// Lesion draws tried before the largest one is kept.
const DRAWS: u64 = 12;

/// One focal consolidation.
#[derive(Debug, Clone)]
pub(crate) struct Lesion {
    /// Centre, exactly the canonical position of a pixel centre inside the lung.
    c: [f32; 2],
    /// Radii along and across its long axis, and the axis direction.
    r: [f32; 2],
    cos: f32,
    sin: f32,
    /// Edge irregularity (fraction of the radius) and its spatial frequency.
    rough: f32,
    freq: f32,
    /// Fraction of the lung air it replaces at full strength.
    opacity: f32,
    /// Frequency of the patchy texture.
    patch_freq: f32,
    /// Whether dark air bronchograms run through it.
    bronchogram: bool,
    /// A straight (fissure) border: unit normal and offset from the centre.
    fissure: Option<([f32; 2], f32)>,
    noise: Noise,
    /// Half size of its bounding box.
    ext: f32,
}

impl Lesion {
    /// `Some(opacity)` when `p` lies inside the consolidation (the mask), `None` outside.
    /// The opacity (0..1) is the fraction of lung air replaced there.
    pub(crate) fn at(&self, p: [f32; 2]) -> Option<f32> {
        let (dx, dy) = (p[0] - self.c[0], p[1] - self.c[1]);
        // Stay in the lung the lesion started in (the lungs never cross the midline).
        if dx.abs() > self.ext || dy.abs() > self.ext || (p[0] < 0.0) != (self.c[0] < 0.0) {
            return None;
        }
        let u = (self.cos * dx + self.sin * dy) / self.r[0];
        let v = (-self.sin * dx + self.cos * dy) / self.r[1];
        let r = (u * u + v * v).sqrt();
        if r > 1.0 + self.rough {
            return None;
        }
        // |fbm| <= 1 and rough < 1, so the centre (r = 0) is always inside.
        let b = 1.0 - r + self.rough * self.noise.fbm(p[0] * self.freq, p[1] * self.freq, 4);
        if b <= 0.0 {
            return None;
        }
        let mut soft = smoothstep(0.0, 0.65, b);
        if let Some((n, d)) = self.fissure {
            let s = n[0] * dx + n[1] * dy - d;
            if s > 0.0 {
                return None;
            }
            soft *= smoothstep(0.0, 0.02, -s);
        }
        let f = self.patch_freq;
        let patch =
            (0.78 + 0.4 * self.noise.fbm(p[0] * f + 31.7, p[1] * f - 12.3, 3)).clamp(0.3, 1.0);
        let mut o = self.opacity * soft * patch;
        if self.bronchogram {
            let n = self.noise.value(p[0] * 6.0 - 50.0, p[1] * 6.0 + 50.0);
            o *= 1.0 - 0.45 * sq((1.0 - n.abs() * 8.0).max(0.0)) * soft;
        }
        Some(o.min(0.95))
    }
}

/// A pixel-centred point at least `MARGIN` inside lung `side`, on the film.
fn place(rng: &mut Rng, anatomy: &Anatomy, frame: &Frame, side: usize) -> Option<[f32; 2]> {
    let [x0, y0, x1, y1] = anatomy.lung_box(side);
    for _ in 0..200 {
        // Pneumonia favours the middle and lower zones.
        let p = [rng.range(x0, x1), y0 + (y1 - y0) * rng.f32().powf(0.7)];
        let Some((px, py)) = frame.pixel_of(p) else { continue };
        if !frame.on_film(px, py) {
            continue;
        }
        let c = frame.body_at(px, py);
        if anatomy.lung_sdf(c) < -MARGIN {
            return Some(c);
        }
    }
    None
}

/// Any visible pixel-centred lung point, for when random placement keeps failing.
fn place_anywhere(rng: &mut Rng, anatomy: &Anatomy, frame: &Frame) -> Option<[f32; 2]> {
    let mut found = Vec::new();
    for py in (0..SIZE).step_by(2) {
        for px in (0..SIZE).step_by(2) {
            let c = frame.body_at(px, py);
            if frame.on_film(px, py) && anatomy.lung_sdf(c) < -0.005 {
                found.push(c);
            }
        }
    }
    found.get(rng.below(found.len())).copied()
}

/// Samples consolidations covering at least [`MIN_PIXELS`] of the film's lung pixels (`lung`:
/// their body points), drawing again from fresh sub-streams of `stream` (up to [`DRAWS`] times,
/// then keeping the largest).
pub(crate) fn sample_visible(
    stream: &dyn Fn(u64) -> Rng,
    lung: &[[f32; 2]],
    anatomy: &Anatomy,
    frame: &Frame,
) -> Vec<Lesion> {
    let mut best = (0, Vec::new());
    for k in 0..DRAWS {
        // The first draw comes from the sub-stream every image always used, so images whose
        // lesions are large enough do not change.
        let lesions = sample(&mut stream(if k == 0 { 5 } else { 100 + k }), anatomy, frame);
        let n = lung.iter().filter(|&&p| lesions.iter().any(|l| l.at(p).is_some())).count();
        if n >= MIN_PIXELS {
            return lesions;
        }
        if n > best.0 {
            best = (n, lesions);
        }
    }
    best.1
}

/// Samples one to three consolidations for a PNEUMONIA image.
fn sample(rng: &mut Rng, anatomy: &Anatomy, frame: &Frame) -> Vec<Lesion> {
    let u = rng.f32();
    let count = if u < 0.55 {
        1
    } else if u < 0.85 {
        2
    } else {
        3
    };
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let side = usize::from(!rng.chance(0.55));
        let Some(c) = place(rng, anatomy, frame, side)
            .or_else(|| place(rng, anatomy, frame, 1 - side))
            .or_else(|| place_anywhere(rng, anatomy, frame))
        else {
            continue;
        };
        // Later lesions tend to be smaller.
        let size = rng.range(0.11, 0.26) * if k == 0 { 1.0 } else { 0.8 };
        let r = [size * rng.range(0.9, 1.6), size * rng.range(0.6, 1.0)];
        let (sin, cos) = rng.range(-0.7, 0.7).sin_cos();
        // Small dense blobs look like nodules rather than consolidation: keep them fainter, but
        // visible: a consolidation nobody could see on the film would not carry the label.
        let opacity = if rng.chance(0.3) { rng.range(0.4, 0.55) } else { rng.range(0.55, 0.95) }
            * (0.75 + 0.25 * smoothstep(0.11, 0.18, size));
        let rough = rng.range(0.3, 0.7);
        let fissure = rng.chance(0.5).then(|| {
            let a = rng.range(-0.5, 0.5);
            ([a.sin(), -a.cos()], r[1] * rng.range(0.25, 0.8))
        });
        out.push(Lesion {
            c,
            r: [r[0].max(3.0 * PIXEL), r[1].max(3.0 * PIXEL)],
            cos,
            sin,
            rough,
            freq: rng.range(3.0, 7.0),
            opacity,
            patch_freq: rng.range(8.0, 18.0),
            bronchogram: rng.chance(0.4),
            fissure,
            noise: Noise::new(rng.next_u64()),
            ext: r[0].max(r[1]).max(3.0 * PIXEL) * (1.0 + rough) + 0.01,
        });
    }
    out
}

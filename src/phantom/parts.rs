//! The shapes the anatomy is built from: the lung fields (signed distance in mirrored
//! coordinates), soft-edged ellipses, and the ribs with their posterior and anterior arcs.

use super::rng::Rng;
use super::{smoothstep, sq};

/// Posterior ribs per side.
pub(super) const RIBS: usize = 10;
/// Of which this many also show their anterior arc.
const ANTERIOR_RIBS: usize = 7;
/// Lateral coordinate where the posterior ribs leave the spine.
const RIB_ROOT: f32 = 0.045;

/// One lung field, described in mirrored coordinates `t = side · x` (lateral is positive).
#[derive(Debug, Clone)]
pub(super) struct Lung {
    /// -1 for the image-left lung (the patient's right), +1 for the image-right one.
    pub(super) side: f32,
    /// Medial border.
    pub(super) med: f32,
    /// Costophrenic angle (lateral lower corner) height.
    pub(super) base: f32,
    /// Diaphragm dome top, and the lateral coordinate of its peak.
    pub(super) dome: f32,
    pub(super) dome_t: f32,
    /// Lateral extent.
    pub(super) lat: f32,
    /// Outline ellipse in (t, y): centre, radii, and how far the apex leans medially.
    pub(super) ell: [f32; 4],
    pub(super) skew: f32,
    /// Hilum in (t, y).
    pub(super) hilum: [f32; 2],
}

impl Lung {
    pub(super) fn sample(rng: &mut Rng, side: f32, chest_w: f32, apex: f32, base: f32) -> Self {
        let med = rng.range(0.06, 0.095);
        let lat = chest_w * if side < 0.0 { rng.range(0.82, 0.88) } else { rng.range(0.79, 0.86) };
        let dome = base - rng.range(0.13, 0.22);
        let dome_t = med + rng.range(0.38, 0.5) * (lat - med);
        let left = med - 0.05;
        let ry = (base - apex) * rng.range(0.68, 0.76);
        let ell = [(left + lat) / 2.0, apex + ry, (lat - left) / 2.0, ry];
        let hilum = [
            med + rng.range(0.04, 0.08),
            rng.range(-0.1, 0.02) + if side > 0.0 { -0.04 } else { 0.0 },
        ];
        Self { side, med, base, dome, dome_t, lat, ell, skew: rng.range(0.15, 0.35), hilum }
    }

    /// Diaphragm height at lateral coordinate `t`.
    pub(super) fn diaphragm(&self, t: f32) -> f32 {
        if t >= self.dome_t {
            self.dome + (self.base - self.dome) * sq((t - self.dome_t) / (self.lat - self.dome_t))
        } else {
            self.dome + 0.06 * sq((self.dome_t - t) / (self.dome_t - self.med))
        }
    }

    /// Approximate signed distance (negative inside), ignoring the heart.
    pub(super) fn sdf(&self, t: f32, y: f32) -> f32 {
        let [cx, cy, rx, ry] = self.ell;
        let v = (y - cy) / ry;
        let u = (t - cx + self.skew * (cy - y).max(0.0) * 0.5) / rx;
        let outer = ((u * u + v * v).sqrt() - 1.0) * rx.min(ry);
        let medial = self.med - t;
        let dia = (y - self.diaphragm(t)) * 0.85;
        outer.max(medial).max(dia)
    }
}

/// A rotated ellipse with a soft edge.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ellipse {
    pub(super) c: [f32; 2],
    pub(super) r: [f32; 2],
    pub(super) cos: f32,
    pub(super) sin: f32,
}

impl Ellipse {
    pub(super) fn new(c: [f32; 2], r: [f32; 2], angle: f32) -> Self {
        let (sin, cos) = angle.sin_cos();
        Self { c, r, cos, sin }
    }

    /// Approximate signed distance (negative inside).
    pub(super) fn sdf(&self, p: [f32; 2]) -> f32 {
        let (dx, dy) = (p[0] - self.c[0], p[1] - self.c[1]);
        let u = (self.cos * dx + self.sin * dy) / self.r[0];
        let v = (-self.sin * dx + self.cos * dy) / self.r[1];
        ((u * u + v * v).sqrt() - 1.0) * self.r[0].min(self.r[1])
    }
}

/// One rib: a posterior arc leaving the spine and, optionally, its anterior arc.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rib {
    /// Height where it leaves the spine, rise and curvature of the posterior arc.
    pub(super) y0: f32,
    pub(super) a: f32,
    pub(super) b: f32,
    /// Half thickness.
    pub(super) h: f32,
    /// Lateral turning point.
    pub(super) lat: f32,
    /// Anterior arc: slope, curvature and medial end (`end > lat` means none).
    pub(super) c: f32,
    pub(super) e: f32,
    pub(super) end: f32,
    /// Height ranges (with thickness) that the posterior and anterior arcs cover.
    pub(super) post_y: [f32; 2],
    pub(super) ant_y: [f32; 2],
}

impl Rib {
    pub(super) fn posterior_y(&self, t: f32) -> f32 {
        let s = t - RIB_ROOT;
        self.y0 - self.a * s + self.b * s * s
    }

    pub(super) fn anterior_y(&self, t: f32) -> f32 {
        let s = self.lat - t;
        self.posterior_y(self.lat) + self.c * s + self.e * s * s
    }

    /// Fills in the height ranges the arcs cover, so most pixels skip the rib quickly.
    pub(super) fn with_bounds(mut self) -> Self {
        let span = |f: &dyn Fn(f32) -> f32, t0: f32, t1: f32, h: f32| {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for i in 0..=32_u8 {
                let y = f(t0 + (t1 - t0) * f32::from(i) / 32.0);
                lo = lo.min(y);
                hi = hi.max(y);
            }
            // Steep stretches are thicker vertically; the arcs' slopes stay below 2.
            [lo - 2.3 * h, hi + 2.3 * h]
        };
        self.post_y = span(&|t| self.posterior_y(t), RIB_ROOT, self.lat + 0.02, self.h);
        self.ant_y = if self.end < self.lat {
            span(&|t| self.anterior_y(t), self.end, self.lat, 1.15 * self.h)
        } else {
            [1.0, -1.0]
        };
        self
    }

    /// Bone attenuation of this rib at (t, y).
    pub(super) fn density(&self, t: f32, y: f32) -> f32 {
        let mut d = 0.0;
        if y >= self.post_y[0] && y <= self.post_y[1] && t >= RIB_ROOT && t <= self.lat + 0.02 {
            let s = t - RIB_ROOT;
            let slope = 2.0 * self.b * s - self.a;
            let dy = y - self.posterior_y(t);
            let hh = self.h * self.h * (1.0 + slope * slope);
            if dy * dy < hh {
                d += profile(dy.abs() / hh.sqrt()) * smoothstep(RIB_ROOT, RIB_ROOT + 0.03, t);
            }
        }
        if y >= self.ant_y[0] && y <= self.ant_y[1] && t >= self.end && t <= self.lat {
            let s = self.lat - t;
            let slope = self.c + 2.0 * self.e * s;
            let dy = y - self.anterior_y(t);
            let hh = sq(1.15 * self.h) * (1.0 + slope * slope);
            if dy * dy < hh {
                d += 0.6 * profile(dy.abs() / hh.sqrt()) * smoothstep(self.end, self.end + 0.06, t);
            }
        }
        d
    }
}

/// Cross profile of a tubular bone: soft shoulders and a brighter cortex.
pub(super) fn profile(v: f32) -> f32 {
    smoothstep(1.0, 0.75, v) * (0.55 + 0.45 * v * v)
}

impl Rib {
    /// Both sides' ribs: the first leaves the spine at height `y0`, the others follow every
    /// `space` (jittered); the image-right side is offset a little.
    pub(super) fn sample_cage(
        rng: &mut Rng,
        y0: f32,
        space: f32,
        chest_w: f32,
    ) -> [[Self; RIBS]; 2] {
        let mut ribs = [[Self {
            y0: 0.0,
            a: 0.0,
            b: 0.0,
            h: 0.0,
            lat: 0.0,
            c: 0.0,
            e: 0.0,
            end: 1.0,
            post_y: [1.0, -1.0],
            ant_y: [1.0, -1.0],
        }; RIBS]; 2];
        for (side, list) in ribs.iter_mut().enumerate() {
            let offset = if side == 0 { 0.0 } else { rng.range(-0.015, 0.015) };
            for (k, rib) in list.iter_mut().enumerate() {
                let kf = crate::convert::to_f32(k);
                let first = k == 0;
                rib.y0 = y0 + offset + kf * space * rng.range(0.95, 1.05);
                rib.a = if first { rng.range(0.45, 0.6) } else { rng.range(0.3, 0.42) };
                rib.b = if first { rng.range(1.3, 1.7) } else { rng.range(0.65, 0.85) };
                rib.h = rng.range(0.022, 0.028) + 0.0012 * kf;
                rib.lat =
                    if first { chest_w * 0.55 } else { chest_w * (0.84 + 0.012 * kf.min(6.0)) };
                if k < ANTERIOR_RIBS {
                    rib.c = rng.range(0.3, 0.42);
                    rib.e = rng.range(0.05, 0.2);
                    rib.end = if first { 0.12 } else { rng.range(0.17, 0.25) };
                }
                *rib = rib.with_bounds();
            }
        }
        ribs
    }
}

//! Class-independent distractors (the paper's Fig. 5F): a tilted film that leaves an empty band
//! on one side, a bright "L"/"R" corner marker block, and tubes or lines (thin bright curves).

use super::SIZE;
use super::geometry::Frame;
use super::rng::Rng;
use super::smoothstep;
use crate::convert::{cell_index, to_f32, to_i64, to_usize};

/// Probability that an image (of either class) carries at least one distractor.
pub(crate) const DISTRACTOR_RATE: f32 = 0.15;

/// 5×7 glyphs, one row per byte, high bit of the low five on the left.
const GLYPH_L: [u8; 7] = [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111];
const GLYPH_R: [u8; 7] = [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001];

/// A lead marker printed in a corner.
#[derive(Debug, Clone)]
struct Marker {
    /// Top-left pixel and side length.
    x: usize,
    y: usize,
    size: usize,
    glyph: &'static [u8; 7],
    block: f32,
    ink: f32,
}

/// A tube or line: a cubic Bézier in canonical body coordinates.
#[derive(Debug, Clone)]
struct Tube {
    ctrl: [[f32; 2]; 4],
    /// Half width in pixels and attenuation.
    half: f32,
    density: f32,
    /// An ECG electrode disc (radius in pixels) at the end.
    electrode: Option<f32>,
}

/// The distractors of one image.
#[derive(Debug, Clone, Default)]
pub(crate) struct Distractors {
    /// Whether the film is tilted (the frame handles the geometry).
    pub(crate) tilted: bool,
    marker: Option<Marker>,
    tube: Option<Tube>,
}

impl Distractors {
    /// Decides, independently of the class, whether and which distractors appear.
    pub(crate) fn sample(rng: &mut Rng) -> Self {
        let mut d = Self::default();
        if !rng.chance(DISTRACTOR_RATE) {
            return d;
        }
        let first = rng.below(3);
        let second = if rng.chance(0.3) { Some(rng.below(3)) } else { None };
        for kind in std::iter::once(first).chain(second) {
            match kind {
                0 => d.tilted = true,
                1 => d.marker = Some(sample_marker(rng)),
                _ => d.tube = Some(sample_tube(rng)),
            }
        }
        d
    }

    /// Whether any distractor is present.
    pub(crate) fn any(&self) -> bool {
        self.tilted || self.marker.is_some() || self.tube.is_some()
    }

    /// Adds the tube's attenuation to the per-pixel `density` map.
    pub(crate) fn paint_tube(&self, frame: &Frame, density: &mut [f32]) {
        let Some(tube) = &self.tube else { return };
        let mut cover = vec![0.0_f32; SIZE * SIZE];
        let pts = tube.ctrl.map(|p| frame.pixel_f(p));
        let len: f32 = pts.windows(2).map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1])).sum();
        // The control polygon bounds the curve length; a step of ~0.4 px leaves no gaps.
        let steps = cell_index(f64::from((len / 0.4).ceil()), 8193).max(16);
        for i in 0..=steps {
            let s = to_f32(i) / to_f32(steps);
            let q = bezier(&pts, s);
            stamp(&mut cover, q, tube.half);
        }
        if let Some(r) = tube.electrode {
            stamp(&mut cover, pts[3], r);
        }
        for (d, c) in density.iter_mut().zip(&cover) {
            *d += tube.density * c;
        }
    }

    /// Prints the corner marker onto the display-intensity image (values in 0..1).
    pub(crate) fn paint_marker(&self, image: &mut [f32]) {
        let Some(m) = &self.marker else { return };
        let cell = (m.size * 7 / 10 / 7).max(2);
        let (gw, gh) = (5 * cell, 7 * cell);
        let gx = m.x + m.size.saturating_sub(gw) / 2;
        let gy = m.y + m.size.saturating_sub(gh) / 2;
        for y in m.y..(m.y + m.size).min(SIZE) {
            for x in m.x..(m.x + m.size).min(SIZE) {
                let mut v = m.block;
                if x >= gx && y >= gy && x < gx + gw && y < gy + gh {
                    let (col, row) = ((x - gx) / cell, (y - gy) / cell);
                    if m.glyph[row] & (0b10000 >> col) != 0 {
                        v = m.ink;
                    }
                }
                image[y * SIZE + x] = v;
            }
        }
    }
}

fn sample_marker(rng: &mut Rng) -> Marker {
    let size = 16 + rng.below(11);
    let margin = 4 + rng.below(11);
    // Mostly a top corner, sometimes a bottom one.
    let right = rng.chance(0.5);
    let bottom = rng.chance(0.25);
    let far = SIZE - size - margin;
    Marker {
        x: if right { far } else { margin },
        y: if bottom { far } else { margin },
        size,
        glyph: if rng.chance(0.5) { &GLYPH_L } else { &GLYPH_R },
        block: rng.range(0.86, 1.0),
        ink: rng.range(0.04, 0.25),
    }
}

fn sample_tube(rng: &mut Rng) -> Tube {
    let j = |rng: &mut Rng, s: f32| rng.range(-s, s);
    match rng.below(4) {
        // Nasogastric tube: down the midline, through the diaphragm, into the stomach.
        0 => Tube {
            ctrl: [
                [0.02 + j(rng, 0.04), -1.2],
                [j(rng, 0.05), -0.4],
                [0.05 + j(rng, 0.05), 0.3],
                [rng.range(0.2, 0.4), rng.range(0.6, 0.8)],
            ],
            half: rng.range(1.2, 2.0),
            density: rng.range(0.35, 0.6),
            electrode: None,
        },
        // Endotracheal tube: short and wide, ending above the carina.
        1 => {
            let x = j(rng, 0.02);
            Tube {
                ctrl: [
                    [x, -1.2],
                    [x + j(rng, 0.02), -0.9],
                    [x + j(rng, 0.02), -0.6],
                    [x + j(rng, 0.02), rng.range(-0.5, -0.38)],
                ],
                half: rng.range(2.2, 3.2),
                density: rng.range(0.25, 0.4),
                electrode: None,
            }
        }
        // Central venous line from a subclavian vein into the superior vena cava.
        2 => {
            let s = if rng.chance(0.5) { 1.0 } else { -1.0 };
            Tube {
                ctrl: [
                    [s * rng.range(0.7, 0.85), rng.range(-0.9, -0.75)],
                    [s * 0.45, -0.62 + j(rng, 0.05)],
                    [s * 0.12, -0.5 + j(rng, 0.05)],
                    [rng.range(-0.06, 0.02), rng.range(-0.2, -0.05)],
                ],
                half: rng.range(0.9, 1.5),
                density: rng.range(0.4, 0.7),
                electrode: None,
            }
        }
        // ECG lead wire from the edge of the film to an electrode on the chest.
        _ => {
            let s = if rng.chance(0.5) { 1.0 } else { -1.0 };
            let end = [s * rng.range(0.3, 0.7), rng.range(-0.5, 0.5)];
            Tube {
                ctrl: [
                    [s * 1.2, rng.range(-0.9, 0.9)],
                    [s * rng.range(0.7, 1.1), rng.range(-0.8, 0.8)],
                    [end[0] + j(rng, 0.3), end[1] + j(rng, 0.3)],
                    end,
                ],
                half: rng.range(0.8, 1.3),
                density: rng.range(0.4, 0.7),
                electrode: Some(rng.range(3.0, 5.0)),
            }
        }
    }
}

/// A point on the cubic Bézier `p` at parameter `s`.
fn bezier(p: &[[f32; 2]; 4], s: f32) -> [f32; 2] {
    let r = 1.0 - s;
    let (a, b, c, d) = (r * r * r, 3.0 * r * r * s, 3.0 * r * s * s, s * s * s);
    [
        a * p[0][0] + b * p[1][0] + c * p[2][0] + d * p[3][0],
        a * p[0][1] + b * p[1][1] + c * p[2][1] + d * p[3][1],
    ]
}

/// Marks an anti-aliased disc of radius `r` pixels around `q` in `cover` (max-combined).
fn stamp(cover: &mut [f32], q: [f32; 2], r: f32) {
    let reach = r + 1.0;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a pixel window near the canvas, clamped to it below"
    )]
    let (x0, x1, y0, y1) = (
        (q[0] - reach).floor() as i64,
        (q[0] + reach).ceil() as i64,
        (q[1] - reach).floor() as i64,
        (q[1] + reach).ceil() as i64,
    );
    let max = to_i64(SIZE) - 1;
    for y in y0.max(0)..=y1.min(max) {
        for x in x0.max(0)..=x1.min(max) {
            // 0 <= x, y <= max after the clamps above.
            let (x, y) = (to_usize(x), to_usize(y));
            let d = (to_f32(x) - q[0]).hypot(to_f32(y) - q[1]);
            let w = smoothstep(r + 0.7, r - 0.7, d);
            let i = y * SIZE + x;
            if w > cover[i] {
                cover[i] = w;
            }
        }
    }
}

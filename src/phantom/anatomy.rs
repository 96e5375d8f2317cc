//! The normal anatomy of a phantom: body outline and soft tissue, the two lung fields (signed
//! distance), heart and mediastinum, trachea, spine, ribs, clavicles and shoulders, as an
//! attenuation map over canonical body coordinates (x right, y down, about [-1, 1]).

use super::parts::{Ellipse, Lung, RIBS, Rib, profile};
use super::rng::{Noise, Rng};
use super::{smoothstep, sq};

/// Attenuation through the full depth of the chest's soft tissue.
const TISSUE: f32 = 0.8;

/// What the anatomy contributes at one point.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Attenuation of everything except the air in the lungs.
    pub(crate) solid: f32,
    /// How much attenuation the lung air removes here (vessel markings already subtracted);
    /// a consolidation fills part of it back in.
    pub(crate) air: f32,
    /// Signed distance to the nearer lung field (negative inside).
    pub(crate) lung: f32,
}

/// The sampled anatomy of one phantom.
#[derive(Debug, Clone)]
pub(crate) struct Anatomy {
    noise: Noise,
    neck_w: f32,
    shoulder_w: f32,
    shoulder_y: f32,
    chest_w: f32,
    lungs: [Lung; 2],
    heart: Ellipse,
    aorta: Ellipse,
    air_d: f32,
    vessel_d: f32,
    spine_x: f32,
    spine_d: f32,
    vert_period: f32,
    vert_phase: f32,
    trachea_x: f32,
    carina_y: f32,
    ribs: [[Rib; RIBS]; 2],
    rib_d: f32,
    /// Clavicle: medial height, rise, length, half thickness.
    clavicle: [[f32; 4]; 2],
    /// Arms hanging beside the chest: centre |x|, radius.
    arm: [f32; 2],
    /// Humeral heads, and the half width of the shafts.
    humerus: [Ellipse; 2],
    humerus_w: f32,
    breasts: Option<(Ellipse, Ellipse, f32)>,
    bubble: Option<Ellipse>,
}

impl Anatomy {
    /// Samples a body.
    pub(crate) fn sample(rng: &mut Rng, noise: Noise) -> Self {
        let bw = rng.range(0.88, 1.06);
        let chest_w = 0.86 * bw;
        let arm_r = rng.range(0.12, 0.18);
        let arm_c = chest_w + rng.range(0.05, 0.14) + arm_r;
        let shoulder_w = arm_c + arm_r + 0.02;
        let shoulder_y = rng.range(-0.84, -0.72);
        let apex = rng.range(-0.7, -0.6);
        let base = rng.range(0.36, 0.52);
        let apex_r = apex + rng.range(-0.02, 0.02);
        let right = Lung::sample(rng, -1.0, chest_w, apex_r, base);
        let (apex_l, base_l) = (apex + rng.range(-0.02, 0.03), base + rng.range(0.0, 0.06));
        let left = Lung::sample(rng, 1.0, chest_w, apex_l, base_l);
        let hry = rng.range(0.21, 0.28);
        let hrx = chest_w * rng.range(0.34, 0.44);
        let heart = Ellipse::new(
            [rng.range(0.06, 0.12), left.dome - 0.3 * hry + rng.range(0.0, 0.04)],
            [hrx, hry],
            rng.range(0.2, 0.45),
        );
        let aorta = Ellipse::new(
            [left.med + rng.range(0.0, 0.02), rng.range(-0.34, -0.26)],
            [rng.range(0.04, 0.06), rng.range(0.045, 0.06)],
            0.0,
        );
        let vert_period = rng.range(0.085, 0.1);
        let rib_y0 = apex + rng.range(0.0, 0.04);
        let rib_space = (base - rib_y0) / rng.range(8.2, 9.2);
        let ribs = Rib::sample_cage(rng, rib_y0, rib_space, chest_w);
        let mut clavicle = [[0.0; 4]; 2];
        let clav_y = apex + rng.range(0.03, 0.09);
        for c in &mut clavicle {
            *c = [
                clav_y + rng.range(-0.015, 0.015),
                rng.range(0.06, 0.14),
                chest_w * rng.range(0.8, 0.92),
                rng.range(0.03, 0.04),
            ];
        }
        let hum_r = rng.range(0.085, 0.11);
        let hum_y = shoulder_y + rng.range(0.04, 0.09);
        let humerus = [-1.0_f32, 1.0]
            .map(|s| Ellipse::new([s * (arm_c - 0.02), hum_y], [hum_r, hum_r * 1.1], 0.0));
        let breasts = rng.chance(0.4).then(|| {
            let (r, cy) =
                ([rng.range(0.26, 0.36), rng.range(0.18, 0.24)], base - rng.range(0.15, 0.25));
            let c = rng.range(0.4, 0.5) * bw;
            (Ellipse::new([-c, cy], r, 0.0), Ellipse::new([c, cy], r, 0.0), rng.range(0.03, 0.08))
        });
        let bubble = rng.chance(0.6).then(|| {
            Ellipse::new(
                [left.dome_t + rng.range(0.0, 0.1), left.dome + rng.range(0.12, 0.17)],
                [rng.range(0.08, 0.13), rng.range(0.05, 0.07)],
                0.0,
            )
        });
        Self {
            noise,
            neck_w: rng.range(0.19, 0.25),
            shoulder_w,
            shoulder_y,
            chest_w,
            lungs: [right, left],
            heart,
            aorta,
            air_d: rng.range(0.55, 0.68),
            vessel_d: rng.range(0.14, 0.22),
            spine_x: rng.range(-0.01, 0.01),
            spine_d: rng.range(0.07, 0.12),
            vert_period,
            vert_phase: rng.range(0.0, 1.0),
            trachea_x: rng.range(-0.01, 0.02),
            carina_y: rng.range(-0.3, -0.22),
            ribs,
            rib_d: rng.range(0.08, 0.14),
            clavicle,
            arm: [arm_c, arm_r],
            humerus,
            humerus_w: rng.range(0.035, 0.05),
            breasts,
            bubble,
        }
    }

    /// Half width of the body at height `y`.
    fn half_width(&self, y: f32) -> f32 {
        if y < self.shoulder_y {
            let s = ((y - self.shoulder_y) / 0.3 + 1.0).clamp(0.0, 1.0);
            self.neck_w + (self.shoulder_w - self.neck_w) * (1.0 - sq(1.0 - s))
        } else {
            let u = ((y - self.shoulder_y) / 0.4).min(1.0);
            self.shoulder_w + (self.chest_w - self.shoulder_w) * u * (2.0 - u)
                - 0.05 * (y - 0.3).max(0.0)
        }
    }

    /// Signed distance to the lung field on `p`'s side (negative inside).
    pub(crate) fn lung_sdf(&self, p: [f32; 2]) -> f32 {
        self.lung_field(p, self.heart.sdf(p), self.aorta.sdf(p))
    }

    /// [`Self::lung_sdf`] given the heart's and aortic knob's signed distances at `p`.
    fn lung_field(&self, p: [f32; 2], heart: f32, aorta: f32) -> f32 {
        let lung = if p[0] < 0.0 { &self.lungs[0] } else { &self.lungs[1] };
        let mut f = lung.sdf(lung.side * p[0], p[1]);
        if f < 0.08 {
            f = f.max(-heart - 0.01);
            if lung.side > 0.0 {
                f = f.max(-aorta - 0.005);
            }
        }
        f
    }

    /// The bounding box of one lung field (0: image left, 1: image right) in canonical
    /// coordinates: `[x0, y0, x1, y1]`.
    pub(crate) fn lung_box(&self, side: usize) -> [f32; 4] {
        let l = &self.lungs[side.min(1)];
        let top = l.ell[1] - l.ell[3];
        let (a, b) = (l.side * l.med, l.side * l.lat);
        [a.min(b), top, a.max(b), l.base]
    }

    /// Everything the anatomy contributes at canonical point `p`.
    pub(crate) fn at(&self, p: [f32; 2]) -> Sample {
        let [x, y] = p;
        let w = self.half_width(y);
        let t = x.abs();
        let side = usize::from(x >= 0.0);
        let [arm_c, arm_r] = self.arm;
        let arm_u = (t - arm_c) / arm_r;
        let arm = if y > self.shoulder_y - 0.1 && arm_u.abs() < 1.0 {
            0.32 * (1.0 - arm_u * arm_u).sqrt()
        } else {
            0.0
        };
        if t >= w && arm <= 0.0 {
            return Sample { solid: 0.0, air: 0.0, lung: 1.0 };
        }
        let depth = 0.55 + 0.45 * smoothstep(self.shoulder_y - 0.25, self.shoulder_y + 0.1, y);
        let torso = if t < w { TISSUE * depth * (1.0 - sq(x / w)).sqrt() } else { 0.0 };
        let mut solid = torso.max(arm);
        let hu = self.humerus[side].sdf(p);
        if hu < 0.0 {
            solid += 0.13 * smoothstep(0.0, -0.03, hu) * (0.7 + 0.4 * smoothstep(-0.04, -0.01, hu));
        } else if y > self.humerus[side].c[1] {
            let v = (t - arm_c + 0.01).abs() / self.humerus_w;
            if v < 1.0 {
                solid += 0.12
                    * profile(v)
                    * smoothstep(self.humerus[side].c[1], self.humerus[side].c[1] + 0.1, y);
            }
        }
        if t >= w {
            return Sample { solid, air: 0.0, lung: 1.0 };
        }

        // Heart, aortic knob, superior mediastinum.
        let hd = self.heart.sdf(p);
        if hd < 0.05 {
            solid += 0.025 * smoothstep(0.04, -0.04, hd);
        }
        let ad = self.aorta.sdf(p);
        if ad < 0.03 {
            solid += 0.03 * smoothstep(0.02, -0.02, ad);
        }
        solid += 0.06 * smoothstep(0.17, 0.09, t) * smoothstep(-0.05, -0.3, y);

        // Spine with vertebral bodies and discs; trachea and main bronchi (air: darker).
        let sx = (x - self.spine_x).abs();
        if sx < 0.11 {
            let phase = (y / self.vert_period + self.vert_phase).rem_euclid(1.0);
            let disc = 1.0 - 0.35 * (-sq((phase - 0.5) / 0.09)).exp();
            let pedicle = 0.4
                * smoothstep(
                    1.0,
                    0.4,
                    sq((sx - 0.06) / 0.016) + sq((phase - 0.3) * self.vert_period / 0.012),
                );
            solid += self.spine_d * (smoothstep(0.105, 0.075, sx) * disc + pedicle);
        }
        if y < self.carina_y + 0.2 {
            let tx = (x - self.trachea_x).abs();
            let mut dark = if y < self.carina_y { smoothstep(0.042, 0.028, tx) } else { 0.0 };
            if y >= self.carina_y - 0.02 {
                // Main bronchi run down and out from the carina.
                let d = y - self.carina_y;
                let off = tx - d * 0.9;
                dark = dark.max(smoothstep(0.03, 0.018, off.abs()) * smoothstep(0.2, 0.1, d));
            }
            solid -= 0.11 * dark;
        }

        // Bones: ribs, clavicles, humeral heads (inside the body only).
        let cage = smoothstep(w - 0.005, w - 0.06, t);
        if cage > 0.0 {
            let mut bone = 0.0;
            for rib in &self.ribs[side] {
                bone += rib.density(t, y);
            }
            solid += self.rib_d * cage * bone.min(1.6);
        }
        let [cy, rise, len, h] = self.clavicle[side];
        if t > 0.03 && t < len && y < cy + 0.1 && y > cy - rise - 0.1 {
            let u = (t - 0.03) / (len - 0.03);
            let yc = cy - rise * u + 0.025 * (std::f32::consts::TAU * u).sin();
            let hh = h * (1.0 + 0.35 * smoothstep(0.15, 0.0, u));
            let v = (y - yc).abs() / hh;
            if v < 1.0 {
                solid += 0.3 * profile(v) * smoothstep(len, len - 0.05, t);
            }
        }

        // Soft tissue extras.
        if let Some((a, b, d)) = &self.breasts {
            let e = if side == 0 { a } else { b };
            let f = e.sdf(p);
            if f < 0.02 {
                solid += d * smoothstep(0.02, -0.02, f) * smoothstep(e.c[1] - e.r[1], e.c[1], y);
            }
        }

        // Lungs.
        let lung = self.lung_field(p, hd, ad);
        let mut air = 0.0;
        if lung < 0.0 {
            let l = &self.lungs[side];
            let inner = smoothstep(0.0, 0.035, -lung);
            let core = smoothstep(0.0, 0.2, -lung).sqrt();
            let apex = smoothstep(l.ell[1] - l.ell[3], l.ell[1] - l.ell[3] + 0.25, y);
            air = self.air_d * inner * (0.55 + 0.3 * core + 0.15 * apex);
            air -= self.vessels(l, t, y, p) * inner;
        } else if let Some(b) = &self.bubble {
            let f = b.sdf(p);
            if x > 0.0 && f < 0.0 && y > self.lungs[1].diaphragm(t) + 0.02 {
                solid -= 0.15 * smoothstep(0.0, -0.03, f);
            }
        }
        // Hilar shadows sit over the medial lung.
        let l = &self.lungs[side];
        let hd2 = sq(t - l.hilum[0]) + sq(y - l.hilum[1]);
        if hd2 < 0.04 {
            solid += 0.12 * (-hd2 / 0.004).exp();
        }
        Sample { solid, air, lung }
    }

    /// Vascular markings and parenchymal mottle: attenuation that stays inside aerated lung.
    /// Vessels are ridges of noise in warped polar coordinates around the hilum, thick and
    /// bright near it, thin and faint towards the periphery.
    fn vessels(&self, l: &Lung, t: f32, y: f32, p: [f32; 2]) -> f32 {
        let dx = t - l.hilum[0] + 0.02;
        let dy = y - l.hilum[1];
        let r = (dx * dx + dy * dy).sqrt() + 0.01;
        let off = l.side * 40.0;
        let ang = dy.atan2(dx) + 0.35 * self.noise.value(p[0] * 5.0 + off, p[1] * 5.0);
        let lr = r.ln();
        let ridge = |n: f32, k: f32| sq((1.0 - n.abs() * k).max(0.0));
        let width = 3.0 + 10.0 * r;
        let n1 = ridge(self.noise.value(ang * 4.0 + off, lr * 1.3), width);
        let n2 = ridge(self.noise.value(ang * 9.0 - off, lr * 2.6 + 7.0), 1.6 * width)
            * smoothstep(0.06, 0.2, r);
        let taper = 0.2 + (-r / 0.22).exp();
        let mottle = 0.03 * self.noise.fbm(p[0] * 14.0 + 100.0, p[1] * 14.0, 2);
        self.vessel_d * taper * (0.9 * n1 + 0.5 * n2) + mottle
    }
}

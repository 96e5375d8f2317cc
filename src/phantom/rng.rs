//! Deterministic randomness for the phantom generator: SplitMix64 key mixing, a xoshiro256**
//! stream and seeded 2-D gradient noise (plain, fractal and ridged).

use std::f32::consts::FRAC_1_SQRT_2;

/// One SplitMix64 step: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes two words into one well-scrambled key (order matters).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut s = a;
    let x = splitmix64(&mut s);
    let mut t = x ^ b.rotate_left(17) ^ 0xA076_1D64_78BD_642F;
    splitmix64(&mut t)
}

/// FNV-1a hash of a string, used to turn a split name into a key.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A xoshiro256** pseudo-random stream seeded through SplitMix64.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A stream determined by `seed` alone.
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = seed;
        Self {
            s: [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)],
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub(crate) fn f32(&mut self) -> f32 {
        #[expect(clippy::cast_precision_loss, reason = "24 random bits are exact in an f32")]
        let v = (self.next_u64() >> 40) as f32;
        v * (1.0 / 16_777_216.0)
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }

    /// Uniform in [lo, hi) with a random sign.
    pub(crate) fn signed_range(&mut self, lo: f32, hi: f32) -> f32 {
        let v = self.range(lo, hi);
        if self.chance(0.5) { v } else { -v }
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f32) -> bool {
        self.f32() < p
    }

    /// Uniform integer in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Multiply-shift reduction; `n` fits in u64 on every supported target.
        #[expect(clippy::cast_possible_truncation, reason = "the product's high word is below n")]
        let v = ((u128::from(self.next_u64()) * n as u128) >> 64) as usize;
        v
    }

    /// A cheap, nearly Gaussian sample with mean 0 and variance 1: the centred sum of four
    /// 16-bit uniforms (Irwin–Hall), scaled. Bounded by ±3.46; plenty for image grain.
    pub(crate) fn grain(&mut self) -> f32 {
        let v = self.next_u64();
        let sum = (v & 0xFFFF) + ((v >> 16) & 0xFFFF) + ((v >> 32) & 0xFFFF) + (v >> 48);
        #[expect(clippy::cast_precision_loss, reason = "the sum is below 2^18, exact in f32")]
        let s = sum as f32;
        (s / 65_536.0 - 2.0) * 1.732_050_8
    }
}

/// `⌊v⌋` as an integer, without a libm call (noise coordinates stay far inside i32).
fn floor_i32(v: f32) -> i32 {
    #[expect(clippy::cast_possible_truncation, reason = "truncation towards zero is the point")]
    let i = v as i32;
    #[expect(clippy::cast_precision_loss, reason = "noise coordinates stay below 2^24")]
    let back = i as f32;
    if v < back { i - 1 } else { i }
}

/// Unit gradients of the noise lattice.
const DIRS: [(f32, f32); 8] = [
    (1.0, 0.0),
    (FRAC_1_SQRT_2, FRAC_1_SQRT_2),
    (0.0, 1.0),
    (-FRAC_1_SQRT_2, FRAC_1_SQRT_2),
    (-1.0, 0.0),
    (-FRAC_1_SQRT_2, -FRAC_1_SQRT_2),
    (0.0, -1.0),
    (FRAC_1_SQRT_2, -FRAC_1_SQRT_2),
];

/// Seeded 2-D gradient noise; every method returns values in [-1, 1].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Noise {
    seed: u64,
}

impl Noise {
    /// Noise determined by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { seed: mix(seed, 0x6E_6F69_7365) }
    }

    /// The lattice gradient at integer point (ix, iy).
    fn grad(&self, ix: i32, iy: i32) -> (f32, f32) {
        #[expect(clippy::cast_sign_loss, reason = "the lattice coordinates' bits are hashed")]
        let mut h = u64::from(ix as u32) | (u64::from(iy as u32) << 32);
        h ^= self.seed;
        h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
        h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        h ^= h >> 32;
        // The low three bits pick one of eight gradients.
        DIRS[(h & 7) as usize]
    }

    /// Single-octave gradient noise at (x, y).
    pub(crate) fn value(&self, x: f32, y: f32) -> f32 {
        let (ix, iy) = (floor_i32(x), floor_i32(y));
        #[expect(clippy::cast_precision_loss, reason = "noise coordinates stay below 2^24")]
        let (fx, fy) = (x - ix as f32, y - iy as f32);
        let dot = |gx: i32, gy: i32, dx: f32, dy: f32| {
            let g = self.grad(gx, gy);
            g.0 * dx + g.1 * dy
        };
        let n00 = dot(ix, iy, fx, fy);
        let n10 = dot(ix.wrapping_add(1), iy, fx - 1.0, fy);
        let n01 = dot(ix, iy.wrapping_add(1), fx, fy - 1.0);
        let n11 = dot(ix.wrapping_add(1), iy.wrapping_add(1), fx - 1.0, fy - 1.0);
        let fade = |t: f32| t * t * t * (t * (t * 6.0 - 15.0) + 10.0);
        let (u, v) = (fade(fx), fade(fy));
        let a = n00 + u * (n10 - n00);
        let b = n01 + u * (n11 - n01);
        ((a + v * (b - a)) * 1.4).clamp(-1.0, 1.0)
    }

    /// Fractal (fBm) noise with `octaves` octaves, normalised to [-1, 1].
    pub(crate) fn fbm(&self, x: f32, y: f32, octaves: u32) -> f32 {
        let (mut sum, mut amp, mut norm, mut f) = (0.0, 1.0, 0.0, 1.0);
        for o in 0..octaves {
            // Offset each octave so lattice points do not line up.
            #[expect(clippy::cast_precision_loss, reason = "a handful of octaves")]
            let off = o as f32 * 17.31;
            sum += amp * self.value(x * f + off, y * f - off);
            norm += amp;
            amp *= 0.5;
            f *= 2.03;
        }
        if norm > 0.0 { (sum / norm).clamp(-1.0, 1.0) } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::to_f32;

    #[test]
    fn streams_are_reproducible_and_in_range() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..1000 {
            let v = a.f32();
            assert_eq!(v.to_bits(), b.f32().to_bits());
            assert!((0.0..1.0).contains(&v));
            assert!(a.below(5) < 5);
            b.below(5);
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
        let n = 100_000;
        let g: Vec<f32> = (0..n).map(|_| a.grain()).collect();
        let mean = g.iter().sum::<f32>() / to_f32(n);
        let var = g.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / to_f32(n);
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "{mean} {var}");
        assert_ne!(mix(1, 2), mix(2, 1));
    }

    #[test]
    fn noise_is_bounded() {
        let n = Noise::new(3);
        for i in 0..2000_u16 {
            let (x, y) = (f32::from(i) * 0.137 - 50.0, f32::from(i) * 0.071 - 20.0);
            for v in [n.value(x, y), n.fbm(x, y, 4)] {
                assert!((-1.0..=1.0).contains(&v));
            }
        }
    }
}

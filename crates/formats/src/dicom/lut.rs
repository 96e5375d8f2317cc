//! The grayscale transforms of SPEC §9 as pydicom 3.0.2 computes them: the modality step
//! (Modality LUT Sequence or rescale slope/intercept), the VOI step (a window, a VOI LUT or a
//! value range) normalised to [0, 1], and NumPy's linear percentile.

use super::window::VoiFunction;

/// A lookup table (Modality or VOI LUT Sequence item): entries for the input values
/// `first, first + 1, …`; inputs below `first` take the first entry, inputs past the end the
/// last (PS3.3 C.11.1.1, C.11.2.1.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Lut {
    /// The first input value mapped (LUT Descriptor's second value).
    pub first: i64,
    /// The entries' nominal bit depth (LUT Descriptor's third value).
    pub bits: u32,
    /// The entries.
    pub data: Vec<u32>,
}

impl Lut {
    /// The entry for input `v` (fractional inputs are truncated, as pydicom's integer index).
    pub fn lookup(&self, v: f64) -> f64 {
        let last = self.data.len().saturating_sub(1);
        let offset = v - self.first as f64;
        let i = if offset >= 0.0 {
            // A float-to-usize cast saturates, and NaN gives 0.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let i = offset.floor() as usize;
            i.min(last)
        } else {
            0
        };
        self.data.get(i).map_or(0.0, |&d| f64::from(d))
    }

    /// The largest output of the nominal bit depth, `2^bits − 1`.
    pub fn max_output(&self) -> f64 {
        2f64.powi(i32::try_from(self.bits).unwrap_or(16)) - 1.0
    }
}

/// The modality step: stored values to modality values (e.g. Hounsfield units).
#[derive(Debug, Clone, PartialEq)]
pub enum Modality {
    /// No Modality LUT and no rescale: the stored values.
    Identity,
    /// `stored · slope + intercept`.
    Rescale {
        /// Rescale Slope (0028,1053).
        slope: f64,
        /// Rescale Intercept (0028,1052).
        intercept: f64,
    },
    /// The first item of the Modality LUT Sequence (0028,3000).
    Lut(Lut),
}

impl Modality {
    /// The modality value of one stored value.
    pub fn apply(&self, stored: f64) -> f64 {
        match self {
            Self::Identity => stored,
            Self::Rescale { slope, intercept } => stored * slope + intercept,
            Self::Lut(l) => l.lookup(stored),
        }
    }
}

/// A VOI step ready to apply: modality values to [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub enum Voi {
    /// A window center/width with its function.
    Window {
        /// Window center.
        center: f64,
        /// Window width.
        width: f64,
        /// VOI LUT Function.
        function: VoiFunction,
    },
    /// A VOI LUT, normalised by `2^bits − 1` of its descriptor; entries above that (out of
    /// spec, PS3.3 C.11.2.1.1) show white.
    Lut(Lut),
    /// `low` → 0 and `high` → 1, clamped (auto and percentile windows). A zero-width range maps
    /// values up to `low` to 0 and the rest to 1.
    Range {
        /// The value shown black.
        low: f64,
        /// The value shown white.
        high: f64,
    },
}

impl Voi {
    /// The [0, 1] value of one modality value.
    pub fn apply(&self, v: f64) -> f64 {
        match self {
            Self::Window { center, width, function } => function.apply(v, *center, *width),
            Self::Lut(l) => (l.lookup(v) / l.max_output()).min(1.0),
            Self::Range { low, high } => {
                if high > low {
                    ((v - low) / (high - low)).clamp(0.0, 1.0)
                } else if v > *low {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// NumPy's `percentile(values, q)` with the default linear method, for `q` in [0, 100].
/// `values` is reordered. NaN when `values` is empty.
pub fn percentile(values: &mut [f64], q: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    // The index is within 0..n after the clamp, so the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let below = (virtual_index.floor().max(0.0) as usize).min(n - 1);
    let above = (below + 1).min(n - 1);
    let gamma = virtual_index - below as f64;
    let (_, &mut a, rest) = values.select_nth_unstable_by(below, f64::total_cmp);
    let b =
        if above == below { a } else { rest.iter().copied().min_by(f64::total_cmp).unwrap_or(a) };
    // NumPy's _lerp: a + (b − a)·t, computed from b when t ≥ 0.5.
    let diff = b - a;
    if gamma >= 0.5 { b - diff * (1.0 - gamma) } else { a + diff * gamma }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lut() -> Lut {
        Lut { first: -2, bits: 8, data: vec![10, 20, 30, 40] }
    }

    #[test]
    fn lut_clamps_below_and_above_and_truncates() {
        let l = lut();
        assert_eq!(l.lookup(-10.0), 10.0);
        assert_eq!(l.lookup(-2.0), 10.0);
        assert_eq!(l.lookup(-0.5), 20.0);
        assert_eq!(l.lookup(1.0), 40.0);
        assert_eq!(l.lookup(1e9), 40.0);
        assert_eq!(l.max_output(), 255.0);
        assert_eq!(Voi::Lut(l).apply(0.0), 30.0 / 255.0);
        // Entries past the descriptor's bit depth (found by the decode_dicom fuzz target).
        let over = Lut { first: 0, bits: 1, data: vec![0, 3] };
        assert_eq!(Voi::Lut(over).apply(1.0), 1.0);
    }

    #[test]
    fn modality_and_range() {
        let m = Modality::Rescale { slope: 2.0, intercept: -1024.0 };
        assert_eq!(m.apply(512.0), 0.0);
        assert_eq!(Modality::Lut(lut()).apply(0.0), 30.0);
        let r = Voi::Range { low: 10.0, high: 20.0 };
        assert_eq!((r.apply(5.0), r.apply(15.0), r.apply(25.0)), (0.0, 0.5, 1.0));
        let flat = Voi::Range { low: 3.0, high: 3.0 };
        assert_eq!((flat.apply(3.0), flat.apply(4.0)), (0.0, 1.0));
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4, 10], [0, 10, 50, 90, 100]) = 1, 1.4, 3, 7.6, 10.
        let mut v = vec![10.0, 3.0, 1.0, 4.0, 2.0];
        for (q, want) in [(0.0, 1.0), (10.0, 1.4), (50.0, 3.0), (90.0, 7.6), (100.0, 10.0)] {
            let got = percentile(&mut v, q);
            assert!((got - want).abs() < 1e-12, "q {q}: {got} vs {want}");
        }
        assert!(percentile(&mut [], 5.0).is_nan());
        assert_eq!(percentile(&mut [7.0], 1.0), 7.0);
    }
}

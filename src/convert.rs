//! Conversions between indices (`usize`), libtorch sizes (`i64`) and floats in one place, each
//! saying what happens at its edges, so no `as` cast elsewhere wraps, truncates or stands in a
//! made-up value. Where an out-of-range value means bad input, callers use `try_from` and
//! return an error instead.

/// A length or index as a libtorch size. Lengths of data in memory always fit (a `Vec` holds
/// at most `isize::MAX` bytes); anything larger saturates at `i64::MAX`.
pub fn to_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A libtorch size, or a class index already checked against the class count, as an index.
/// Sizes are never negative; a negative value saturates at 0 and one beyond `usize::MAX` (on
/// 32-bit targets) at `usize::MAX`.
pub fn to_usize(v: i64) -> usize {
    usize::try_from(v).unwrap_or(if v < 0 { 0 } else { usize::MAX })
}

/// A count or index as `f64`: exact below 2^53, the nearest representable value above.
#[expect(clippy::cast_precision_loss, reason = "counts stay far below 2^53; rounding is fine")]
pub const fn to_f64(v: usize) -> f64 {
    v as f64
}

/// A libtorch size or count as `f64`: exact below 2^53, the nearest representable value above.
#[expect(clippy::cast_precision_loss, reason = "sizes and counts stay far below 2^53")]
pub fn i64_to_f64(v: i64) -> f64 {
    v as f64
}

/// A count or pixel coordinate as `f32`: exact below 2^24 (every image side and class index
/// here), the nearest representable value above.
#[expect(clippy::cast_precision_loss, reason = "pixel coordinates stay below 2^24")]
pub const fn to_f32(v: usize) -> f32 {
    v as f32
}

/// The index of the cell that `v` falls in when cells have width 1 and start at 0: `⌊v⌋`
/// clamped into `0..len` (NaN gives 0). For histogram bins, plot clicks and pixel lookups.
pub fn cell_index(v: f64, len: usize) -> usize {
    let last = len.saturating_sub(1);
    if v.is_nan() || v <= 0.0 {
        return 0;
    }
    if v >= to_f64(last) {
        return last;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "v is in [0, last), so its floor is a valid index"
    )]
    let i = v.floor() as usize;
    i
}

/// A value on the 0..=255 scale as a byte: clamped, then rounded to the nearest (NaN gives 0).
pub fn to_byte(v: f32) -> u8 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped into 0..=255 first, so the cast is exact"
    )]
    let b = v.clamp(0.0, 255.0).round() as u8;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_saturate() {
        assert_eq!(to_i64(7), 7);
        assert_eq!(to_usize(-3), 0);
        assert_eq!(to_usize(12), 12);
        assert_eq!(to_f64(1 << 20), 1_048_576.0);
        assert_eq!(i64_to_f64(-3), -3.0);
        assert_eq!(to_f32(255), 255.0);
    }

    #[test]
    fn cells() {
        assert_eq!(cell_index(-0.5, 4), 0);
        assert_eq!(cell_index(0.0, 4), 0);
        assert_eq!(cell_index(2.999, 4), 2);
        assert_eq!(cell_index(3.0, 4), 3);
        assert_eq!(cell_index(17.0, 4), 3);
        assert_eq!(cell_index(f64::NAN, 4), 0);
        assert_eq!(cell_index(1.5, 0), 0);
    }

    #[test]
    fn bytes() {
        assert_eq!(to_byte(-4.0), 0);
        assert_eq!(to_byte(127.5), 128);
        assert_eq!(to_byte(300.0), 255);
        assert_eq!(to_byte(f32::NAN), 0);
    }
}

//! Stored sample values from one decoded frame's bytes: unused high bits cleared (unsigned) or
//! sign-extended (signed) from Bits Stored, as pydicom's `correct_unused_bits`; colour
//! de-interleaved to planes and YBR_FULL converted to RGB as pydicom does.

use crate::error::{DecodeError, DecodeResult};

/// How one frame's samples are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub rows: usize,
    pub columns: usize,
    pub samples: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    /// Planar Configuration 1 (RRR…GGG…BBB…) rather than interleaved.
    pub planar: bool,
}

fn correct(raw: u32, alloc: u32, stored: u32, signed: bool) -> f64 {
    let shift = alloc.saturating_sub(stored).min(31);
    let width = 32 - alloc + shift;
    if signed {
        // Move the stored sign bit to bit 31 and shift back arithmetically.
        #[allow(clippy::cast_possible_wrap)]
        let v = ((raw << width) as i32) >> width;
        f64::from(v)
    } else {
        f64::from((raw << width) >> width)
    }
}

/// The frame's samples as planes `[samples, rows · columns]`, values corrected for unused bits.
pub(crate) fn samples(bytes: &[u8], l: Layout) -> DecodeResult<Vec<f64>> {
    let n = l.rows * l.columns;
    let count = n * l.samples;
    let width = usize::from(l.bits_allocated.div_ceil(8));
    if !matches!(l.bits_allocated, 8 | 16 | 32) {
        return Err(DecodeError::Unsupported(format!(
            "{}-bit allocated samples",
            l.bits_allocated
        )));
    }
    if bytes.len() < count * width {
        return Err(DecodeError::Corrupt(format!(
            "the frame has {} bytes of pixel data, {} expected",
            bytes.len(),
            count * width
        )));
    }
    let (alloc, stored) =
        (u32::from(l.bits_allocated), u32::from(l.bits_stored.clamp(1, l.bits_allocated)));
    let raw = |i: usize| -> u32 {
        let b = &bytes[i * width..(i + 1) * width];
        match width {
            1 => u32::from(b[0]),
            2 => u32::from(u16::from_ne_bytes([b[0], b[1]])),
            _ => u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        }
    };
    let mut out = vec![0.0; count];
    for (i, o) in out.iter_mut().enumerate() {
        // Output plane-major; the source is plane-major when planar, else interleaved.
        let (s, p) = (i / n, i % n);
        let src = if l.planar { i } else { p * l.samples + s };
        *o = correct(raw(src), alloc, stored, l.signed);
    }
    Ok(out)
}

/// YBR_FULL planes to RGB in place, as pydicom's `_convert_YBR_FULL_to_RGB` (8-bit, float32
/// arithmetic, rounded half up and clipped to 0..=255).
pub(crate) fn ybr_full_to_rgb(planes: &mut [f64]) {
    let n = planes.len() / 3;
    let (y, rest) = planes.split_at_mut(n);
    let (cb, cr) = rest.split_at_mut(n);
    let g_cb = -0.114_f32 * 1.772 / 0.587;
    let g_cr = -0.299_f32 * 1.402 / 0.587;
    for i in 0..n {
        // The planes hold 8-bit sample values, exact in f32.
        #[allow(clippy::cast_possible_truncation)]
        let (yy, b, r) = (y[i] as f32, cb[i] as f32 - 128.0, cr[i] as f32 - 128.0);
        let round = |v: f32| f64::from((v + 0.5).floor().clamp(0.0, 255.0));
        let (red, green, blue) = (yy + 1.402 * r, yy + g_cb * b + g_cr * r, yy + 1.772 * b);
        (y[i], cb[i], cr[i]) = (round(red), round(green), round(blue));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(bits_allocated: u16, bits_stored: u16, signed: bool) -> Layout {
        Layout {
            rows: 1,
            columns: 2,
            samples: 1,
            bits_allocated,
            bits_stored,
            signed,
            planar: false,
        }
    }

    #[test]
    fn unused_bits_are_cleared_or_sign_extended() {
        // 12 of 16 bits: 0xF123 → 0x123 unsigned; 0x0FFF → −1 signed; 0x0800 → −2048.
        let b: Vec<u8> = [0xF123_u16, 0x0FFF].iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(samples(&b, layout(16, 12, false)).expect("u12"), vec![291.0, 4095.0]);
        assert_eq!(samples(&b, layout(16, 12, true)).expect("s12"), vec![291.0, -1.0]);
        let b: Vec<u8> = [0x0800_u16, 0x7FFF].iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(samples(&b, layout(16, 12, true)).expect("s12"), vec![-2048.0, -1.0]);
        assert_eq!(samples(&b, layout(16, 16, true)).expect("s16"), vec![2048.0, 32767.0]);
        assert_eq!(samples(&[0x80, 0x7F], layout(8, 8, true)).expect("s8"), vec![-128.0, 127.0]);
        assert!(samples(&[0, 0, 0], layout(16, 16, false)).is_err());
    }

    #[test]
    fn colour_is_deinterleaved_and_ybr_converted() {
        let l = Layout { samples: 3, ..layout(8, 8, false) };
        let planes = samples(&[1, 2, 3, 4, 5, 6], l).expect("rgb");
        assert_eq!(planes, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let planar = samples(&[1, 2, 3, 4, 5, 6], Layout { planar: true, ..l }).expect("planar");
        assert_eq!(planar, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // Gray stays gray; pure YBR red (76, 85, 255) is close to (255, 0, 0).
        let mut p = vec![128.0, 76.0, 128.0, 85.0, 128.0, 255.0];
        ybr_full_to_rgb(&mut p);
        assert_eq!((p[0], p[2], p[4]), (128.0, 128.0, 128.0));
        assert!(p[1] >= 253.0 && p[3] <= 2.0 && p[5] <= 2.0, "{p:?}");
    }
}

//! Images at the model's input size as plain data (planar RGB floats in [0, 1]) and their 8-bit
//! display form. Decoding lives in `hx_formats`; resizing and tensors in [`crate::input`].

/// A planar RGB image, values in [0, 1], layout `[3, height, width]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `3 · height · width` values, channel-major.
    pub data: Vec<f32>,
}

impl Image {
    /// 8-bit interleaved RGBA pixels for display.
    pub fn to_rgba8(&self) -> Vec<u8> {
        let n = self.width * self.height;
        let mut out = Vec::with_capacity(4 * n);
        for i in 0..n {
            for c in 0..3 {
                out.push(to_u8(self.data[c * n + i]));
            }
            out.push(255);
        }
        out
    }
}

/// Maps [0, 1] to 0..=255 with rounding.
pub fn to_u8(v: f32) -> u8 {
    crate::convert::to_byte(v.clamp(0.0, 1.0) * 255.0)
}

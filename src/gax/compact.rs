//! Heatmaps stored as f16: 2 bytes a value, 384 KiB for a 3×256×256 step.

use half::f16;

/// A `[C, H, W]` heatmap in half precision (C = 3, or 1 for a 1-channel model).
#[derive(Debug, Clone, PartialEq)]
pub struct CompactHeatmap {
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// `C · H · W` values, channel-major.
    pub data: Vec<f16>,
}

impl CompactHeatmap {
    /// Compresses f32 values.
    pub fn from_f32(height: usize, width: usize, values: &[f32]) -> Self {
        Self { height, width, data: values.iter().map(|&v| f16::from_f32(v)).collect() }
    }

    /// The number of channels C.
    pub fn channels(&self) -> usize {
        self.data.len() / (self.height * self.width).max(1)
    }

    /// The values as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|v| v.to_f32()).collect()
    }

    /// Raw little-endian bytes.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.data.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// max |h|.
    pub fn abs_max(&self) -> f32 {
        self.data.iter().fold(0.0_f32, |m, v| m.max(v.to_f32().abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_precision() {
        let v: Vec<f32> = (0..12_u8).map(|i| (f32::from(i) - 6.0) / 7.0).collect();
        let c = CompactHeatmap::from_f32(2, 2, &v);
        for (a, b) in v.iter().zip(c.to_f32()) {
            assert!((a - b).abs() < 1e-3);
        }
        assert_eq!(c.to_le_bytes().len(), 24);
        assert_eq!(c.channels(), 3);
        assert_eq!(CompactHeatmap::from_f32(2, 2, &v[..4]).channels(), 1);
    }
}

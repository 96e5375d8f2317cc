//! Decoding images to planar RGB floats in [0, 1] at the model's input size.

use std::path::Path;

use image::{DynamicImage, imageops::FilterType};

use crate::error::{Error, Result};

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
    /// Decodes `path` (PNG, JPEG, BMP, TIFF, GIF; 8 or 16 bit; grayscale is replicated to three
    /// channels and alpha dropped) and resizes it to `size` = `[height, width]` with a
    /// bilinear (triangle) filter unless it already has that size.
    pub fn load(path: &Path, size: [usize; 2]) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let img = image::load_from_memory(&bytes)
            .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
        Ok(Self::from_dynamic(&img, size))
    }

    /// Converts a decoded image, resizing to `[height, width]` when needed.
    pub fn from_dynamic(img: &DynamicImage, size: [usize; 2]) -> Self {
        let rgb = img.to_rgb32f();
        let (h, w) = (size[0], size[1]);
        let rgb = if rgb.height() as usize == h && rgb.width() as usize == w {
            rgb
        } else {
            let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
            image::imageops::resize(&rgb, to_u32(w), to_u32(h), FilterType::Triangle)
        };
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let mut data = vec![0.0_f32; 3 * h * w];
        for (i, p) in rgb.pixels().enumerate() {
            for c in 0..3 {
                data[c * h * w + i] = p[c].clamp(0.0, 1.0);
            }
        }
        Self { width: w, height: h, data }
    }

    /// The image as a `[1, 3, H, W]` float tensor on `device`.
    pub fn to_tensor(&self, device: tch::Device) -> tch::Tensor {
        let h = i64::try_from(self.height).unwrap_or(0);
        let w = i64::try_from(self.width).unwrap_or(0);
        tch::Tensor::from_slice(&self.data).view([1, 3, h, w]).to_device(device)
    }

    /// A batch `[N, 3, H, W]` from images of one size.
    pub fn batch(images: &[&Self], device: tch::Device) -> Result<tch::Tensor> {
        let Some(first) = images.first() else { return Err(Error::invalid("no images")) };
        if images.iter().any(|i| i.width != first.width || i.height != first.height) {
            return Err(Error::invalid("images in one batch must have the same size"));
        }
        let ts: Vec<_> = images.iter().map(|i| i.to_tensor(tch::Device::Cpu)).collect();
        Ok(tch::Tensor::cat(&ts, 0).to_device(device))
    }

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
    // The clamp keeps the value inside u8's range, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let b = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_is_replicated_and_resized() {
        let g = image::GrayImage::from_fn(8, 4, |x, _| {
            image::Luma([u8::try_from(x * 30).unwrap_or(0)])
        });
        let img = Image::from_dynamic(&DynamicImage::ImageLuma8(g), [4, 8]);
        assert_eq!((img.width, img.height), (8, 4));
        let n = 32;
        assert_eq!(&img.data[..n], &img.data[n..2 * n]);
        assert!((img.data[1] - 30.0 / 255.0).abs() < 1e-6);
        let r =
            Image::from_dynamic(&DynamicImage::ImageLuma8(image::GrayImage::new(10, 10)), [5, 6]);
        assert_eq!((r.height, r.width, r.data.len()), (5, 6, 90));
    }

    #[test]
    fn sixteen_bit_and_alpha() {
        let im = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(
            2,
            2,
            image::Rgba([65535, 0, 32768, 0]),
        );
        let img = Image::from_dynamic(&DynamicImage::ImageRgba16(im), [2, 2]);
        assert!((img.data[0] - 1.0).abs() < 1e-6);
        assert!(img.data[4].abs() < 1e-6);
        assert!((img.data[8] - 0.5).abs() < 1e-3);
    }
}

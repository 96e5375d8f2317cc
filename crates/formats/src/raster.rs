//! Raster images (PNG, JPEG, BMP, TIFF, GIF) decoded to planar floats in [0, 1], bit for bit
//! what NumPy computes from the file's integer values (`value / 255` or `value / 65535` in
//! float32), at the file's own resolution.

use std::io::Cursor;

use image::{DynamicImage, ImageError, ImageReader};

use crate::error::{DecodeError, DecodeResult};

/// The most pixels an image may declare (10,000 × 10,000); larger headers are refused before
/// any pixel buffer is allocated.
pub const MAX_PIXELS: u64 = 100_000_000;

/// The most bytes a decoder may allocate.
const MAX_ALLOC: u64 = 1 << 30;

/// A decoded image at its native resolution: planar `[channels, height, width]` floats in
/// [0, 1]. Grayscale stays one channel; colour is three (alpha dropped, palettes expanded, as
/// PIL's `convert("RGB")`).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 1 (grayscale) or 3 (RGB).
    pub channels: usize,
    /// Bits per sample of the source (8 or 16; 32 for float files).
    pub bits: u8,
    /// `channels · height · width` values, channel-major.
    pub data: Vec<f32>,
}

impl Raster {
    /// The image as three channels: grayscale replicated, colour as it is.
    pub fn to_rgb(&self) -> Vec<f32> {
        if self.channels == 3 {
            return self.data.clone();
        }
        let mut out = Vec::with_capacity(3 * self.data.len());
        for _ in 0..3 {
            out.extend_from_slice(&self.data);
        }
        out
    }

    /// The image as one channel: grayscale as it is, colour as the mean `(r + g + b) / 3`
    /// evaluated left to right in f32 (NumPy's `mean(axis=0)` on three float32 planes).
    pub fn to_gray(&self) -> Vec<f32> {
        if self.channels == 1 {
            return self.data.clone();
        }
        let n = self.width * self.height;
        let (r, rest) = self.data.split_at(n);
        let (g, b) = rest.split_at(n);
        r.iter().zip(g).zip(b).map(|((r, g), b)| (r + g + b) / 3.0).collect()
    }
}

fn limits() -> image::Limits {
    let side = u32::try_from(MAX_PIXELS).unwrap_or(u32::MAX);
    let mut l = image::Limits::default();
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn reader(bytes: &[u8]) -> DecodeResult<ImageReader<Cursor<&[u8]>>> {
    let r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if r.format().is_none() {
        return Err(DecodeError::UnknownFormat);
    }
    Ok(r)
}

fn map_err(e: ImageError) -> DecodeError {
    match e {
        ImageError::Limits(l) => {
            DecodeError::Unsupported(format!("over the decoder's limits: {l}"))
        }
        ImageError::Unsupported(u) => DecodeError::Unsupported(u.to_string()),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// Decodes an image file's bytes. The header is read first: an empty image or one declaring
/// more than [`MAX_PIXELS`] is refused before its pixels are decoded.
pub fn decode_image(bytes: &[u8]) -> DecodeResult<Raster> {
    let (w, h) = reader(bytes)?.into_dimensions().map_err(map_err)?;
    let (width, height) = (u64::from(w), u64::from(h));
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty { width, height });
    }
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height, limit: MAX_PIXELS });
    }
    let mut r = reader(bytes)?;
    if r.format() == Some(image::ImageFormat::Jpeg) && !jpeg_has_end(bytes) {
        // The JPEG decoder fills a cut-off scan with grey and reports success; PIL refuses
        // such a file ("image file is truncated"), and so does this program.
        return Err(DecodeError::Corrupt("JPEG data end before the end-of-image marker".into()));
    }
    r.limits(limits());
    let img = r.decode().map_err(map_err)?;
    Ok(from_dynamic(&img))
}

/// Whether a JPEG file's scan data are followed by its end-of-image marker (FF D9). The marker
/// segments are walked from the start to the first start-of-scan (so a thumbnail inside an APP
/// segment does not count; stray bytes between segments are skipped, as PIL does); after it,
/// entropy-coded data never hold FF D9 (a 0xFF byte there is followed by 0x00 or a restart
/// marker), so the marker is found only in a complete file.
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let mut i = 2;
    while let Some(&[ff, marker]) = bytes.get(i..i + 2) {
        if ff != 0xFF {
            i += 1;
            continue;
        }
        match marker {
            0xFF => i += 1,
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let Some(&[hi, lo]) = bytes.get(i + 2..i + 4) else { return false };
                let next = i + 2 + usize::from(u16::from_be_bytes([hi, lo]));
                if marker == 0xDA {
                    return bytes
                        .get(next..)
                        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]));
                }
                i = next;
            }
        }
    }
    false
}

fn planar<const N: usize, T: Copy>(
    pixels: &[T],
    channels_in: usize,
    keep: usize,
    to_f32: impl Fn(T) -> f32,
) -> Vec<f32> {
    debug_assert!(keep <= channels_in && channels_in <= N);
    let n = pixels.len() / channels_in;
    let mut out = vec![0.0_f32; keep * n];
    for (i, p) in pixels.chunks_exact(channels_in).enumerate() {
        for c in 0..keep {
            out[c * n + i] = to_f32(p[c]);
        }
    }
    out
}

/// Converts a decoded image: integer samples divided by their maximum in f32, alpha dropped.
pub fn from_dynamic(img: &DynamicImage) -> Raster {
    let (width, height) = (img.width() as usize, img.height() as usize);
    let u8f = |v: u8| f32::from(v) / 255.0;
    let u16f = |v: u16| f32::from(v) / 65535.0;
    let f32f = |v: f32| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let (channels, bits, data) = match img {
        DynamicImage::ImageLuma8(b) => (1, 8, planar::<1, u8>(b.as_raw(), 1, 1, u8f)),
        DynamicImage::ImageLumaA8(b) => (1, 8, planar::<2, u8>(b.as_raw(), 2, 1, u8f)),
        DynamicImage::ImageRgb8(b) => (3, 8, planar::<3, u8>(b.as_raw(), 3, 3, u8f)),
        DynamicImage::ImageRgba8(b) => (3, 8, planar::<4, u8>(b.as_raw(), 4, 3, u8f)),
        DynamicImage::ImageLuma16(b) => (1, 16, planar::<1, u16>(b.as_raw(), 1, 1, u16f)),
        DynamicImage::ImageLumaA16(b) => (1, 16, planar::<2, u16>(b.as_raw(), 2, 1, u16f)),
        DynamicImage::ImageRgb16(b) => (3, 16, planar::<3, u16>(b.as_raw(), 3, 3, u16f)),
        DynamicImage::ImageRgba16(b) => (3, 16, planar::<4, u16>(b.as_raw(), 4, 3, u16f)),
        DynamicImage::ImageRgb32F(b) => (3, 32, planar::<3, f32>(b.as_raw(), 3, 3, f32f)),
        DynamicImage::ImageRgba32F(b) => (3, 32, planar::<4, f32>(b.as_raw(), 4, 3, f32f)),
        other => {
            let b = other.to_rgb32f();
            (3, 32, planar::<3, f32>(b.as_raw(), 3, 3, f32f))
        }
    };
    Raster { width, height, channels, bits, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(img: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("encode");
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = u32::MAX;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn gray_8_and_16_bit_are_value_over_max() {
        let g = image::GrayImage::from_fn(7, 3, |x, y| image::Luma([(x * 37 + y * 11) as u8]));
        let r = decode_image(&png(&DynamicImage::ImageLuma8(g.clone()))).expect("gray8");
        assert_eq!((r.width, r.height, r.channels, r.bits), (7, 3, 1, 8));
        for (i, p) in g.pixels().enumerate() {
            assert_eq!(r.data[i].to_bits(), (f32::from(p[0]) / 255.0).to_bits());
        }
        let g16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(5, 4, |x, y| {
            image::Luma([(x * 13_000 + y * 977) as u16])
        });
        let r = decode_image(&png(&DynamicImage::ImageLuma16(g16.clone()))).expect("gray16");
        assert_eq!((r.channels, r.bits), (1, 16));
        for (i, p) in g16.pixels().enumerate() {
            assert_eq!(r.data[i].to_bits(), (f32::from(p[0]) / 65535.0).to_bits());
        }
        let rgb = r.to_rgb();
        assert_eq!(&rgb[..20], &rgb[20..40]);
        assert_eq!(r.to_gray(), r.data);
    }

    #[test]
    fn sixteen_bit_tiff_keeps_its_depth() {
        let g16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(6, 3, |x, y| {
            image::Luma([(x * 10_007 + y * 3) as u16])
        });
        let rgb16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(2, 2, |x, y| {
            image::Rgb([(x * 40_000) as u16, (y * 257) as u16, 1])
        });
        for (img, channels) in
            [(DynamicImage::ImageLuma16(g16), 1), (DynamicImage::ImageRgb16(rgb16), 3)]
        {
            let mut tiff = Vec::new();
            img.write_to(&mut Cursor::new(&mut tiff), image::ImageFormat::Tiff).expect("tiff");
            let r = decode_image(&tiff).expect("decode");
            assert_eq!((r.channels, r.bits), (channels, 16));
            assert_eq!(r, from_dynamic(&img));
            // Values a 8-bit path would lose: not multiples of 257.
            assert!(r.data.iter().any(|v| !((v * 65535.0).round() as u32).is_multiple_of(257)));
        }
    }

    #[test]
    fn alpha_is_dropped_not_composited() {
        let im = image::RgbaImage::from_pixel(2, 2, image::Rgba([255, 0, 128, 0]));
        let r = decode_image(&png(&DynamicImage::ImageRgba8(im))).expect("rgba");
        assert_eq!((r.channels, r.data.len()), (3, 12));
        assert_eq!((r.data[0], r.data[4], r.data[8]), (1.0, 0.0, 128.0 / 255.0));
    }

    #[test]
    fn garbage_empty_and_huge_headers_are_refused() {
        assert!(matches!(decode_image(b""), Err(DecodeError::UnknownFormat)));
        assert!(matches!(decode_image(b"not an image at all"), Err(DecodeError::UnknownFormat)));
        let mut bytes = png(&DynamicImage::ImageLuma8(image::GrayImage::new(4, 4)));
        // IHDR's width and height are bytes 16..24, its CRC (over bytes 12..29) bytes 29..33.
        bytes[16..20].copy_from_slice(&100_000_u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000_u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let e = decode_image(&bytes).expect_err("huge");
        assert!(matches!(e, DecodeError::TooLarge { width: 100_000, .. }), "{e}");
        let full = png(&DynamicImage::ImageLuma8(image::GrayImage::new(64, 64)));
        assert!(decode_image(&full[..full.len() / 2]).is_err());
    }

    #[test]
    fn a_jpeg_cut_inside_its_scan_is_refused() {
        let g = image::GrayImage::from_fn(64, 64, |x, y| image::Luma([(x * 3 + y * 2) as u8]));
        let mut jpeg = Vec::new();
        DynamicImage::ImageLuma8(g)
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .expect("encode");
        assert!(jpeg_has_end(&jpeg));
        assert_eq!(decode_image(&jpeg).expect("whole").width, 64);
        let scan = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).expect("SOS");
        let cut = &jpeg[..scan + (jpeg.len() - scan) / 2];
        assert!(!jpeg_has_end(cut));
        let e = decode_image(cut).expect_err("cut");
        assert!(matches!(e, DecodeError::Corrupt(_)), "{e}");
    }
}

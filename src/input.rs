//! Model inputs: image files decoded (by `hx_formats`) and resized as torchvision's `Resize`
//! does on a tensor (bilinear, antialiased, align_corners = false, through the same libtorch
//! kernel), and images turned into tensors. DICOM files go through SPEC §9's pixel pipeline
//! (window, frame) first. Runs on the worker side only.

use std::path::Path;

use hx_formats::{DicomFile, Raster, Window};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::io::image::Image;

/// Decodes `path` and resizes it to `size` = `[height, width]` unless it already has that
/// size; grayscale is replicated to three channels. DICOM files use the file's window, frame 0.
pub fn load_image(path: &Path, size: [usize; 2]) -> Result<Image> {
    load_image_with(path, size, &LoadOptions::default())
}

/// How a DICOM file becomes an image: which VOI window and which frame (SPEC §9). Other
/// formats ignore the window and have only frame 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadOptions {
    /// The VOI window (default: the file's first).
    pub window: Window,
    /// The frame, 0-based.
    pub frame: usize,
}

/// A decoded file: a DICOM file (facts, presets, any frame under any window) or a raster.
#[derive(Debug)]
pub enum Opened {
    /// A DICOM Part 10 file.
    Dicom(Box<DicomFile>),
    /// Any other image, decoded at its native resolution.
    Raster(Raster),
}

impl Opened {
    /// The [0, 1] raster `options` selects (colour stays 3 channels).
    pub fn render(&self, path: &Path, options: &LoadOptions) -> Result<Raster> {
        match self {
            Self::Dicom(d) => {
                d.render(options.frame, &options.window).map_err(|e| image_error(path, e))
            }
            Self::Raster(r) if options.frame == 0 => Ok(r.clone()),
            Self::Raster(_) => Err(Error::invalid(format!(
                "{}: --frame {} applies to multi-frame DICOM files only",
                path.display(),
                options.frame
            ))),
        }
    }
}

fn image_error(path: &Path, e: hx_formats::DecodeError) -> Error {
    Error::Image { path: path.to_owned(), message: e.to_string() }
}

/// Whether `path` is read as DICOM: a `.dcm`/`.dicom` extension, or `DICM` at byte 128 (or 0)
/// of `head` (the file's first bytes).
pub fn is_dicom(path: &Path, head: &[u8]) -> bool {
    hx_formats::dicom::is_dicom(head)
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("dcm") || e.eq_ignore_ascii_case("dicom"))
}

/// Whether a folder scan should take `path` as a DICOM file: a `.dcm`/`.dicom` extension, or
/// no extension and the DICOM magic (archives often drop the extension).
pub fn looks_like_dicom_file(path: &Path) -> bool {
    match path.extension() {
        Some(_) => is_dicom(path, &[]),
        None => {
            use std::io::Read as _;
            let mut head = [0_u8; 132];
            std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
                && hx_formats::dicom::is_dicom(&head)
        }
    }
}

/// Reads and decodes `path` (DICOM by magic or extension, else PNG/JPEG/BMP/TIFF/GIF).
pub fn open(path: &Path) -> Result<Opened> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.is_empty() {
        return Err(Error::Image { path: path.to_owned(), message: "empty file (0 bytes)".into() });
    }
    if is_dicom(path, &bytes) {
        let file = DicomFile::open(&bytes).map_err(|e| image_error(path, e))?;
        return Ok(Opened::Dicom(Box::new(file)));
    }
    hx_formats::decode_image(&bytes).map(Opened::Raster).map_err(|e| image_error(path, e))
}

/// [`load_image`] with a window and frame for DICOM files.
pub fn load_image_with(path: &Path, size: [usize; 2], options: &LoadOptions) -> Result<Image> {
    let raster = open(path)?.render(path, options)?;
    resize(&raster, size)
}

/// Resizes a raster to `[height, width]` with the same kernel as [`resize`], keeping its
/// channels (1 stays 1).
pub fn resize_raster(raster: &Raster, size: [usize; 2]) -> Result<Raster> {
    let [h, w] = size;
    if raster.height == h && raster.width == w {
        return Ok(raster.clone());
    }
    if h == 0 || w == 0 {
        return Err(Error::invalid(format!("cannot resize to {h}×{w}")));
    }
    let c = dim(raster.channels)?;
    let x = Tensor::from_slice(&raster.data).view([1, c, dim(raster.height)?, dim(raster.width)?]);
    let y = x.f_internal_upsample_bilinear2d_aa([dim(h)?, dim(w)?], false, None, None)?;
    let data = Vec::<f32>::try_from(y.contiguous().view([-1]))?;
    Ok(Raster { width: w, height: h, channels: raster.channels, bits: raster.bits, data })
}

fn dim(v: usize) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::invalid(format!("image dimension {v} is too large")))
}

/// Resizes a decoded raster to `[height, width]` (torchvision's antialiased bilinear resize;
/// no resampling when the size already fits) and replicates grayscale to three channels.
pub fn resize(raster: &Raster, size: [usize; 2]) -> Result<Image> {
    let [h, w] = size;
    let data = if raster.height == h && raster.width == w {
        raster.to_rgb()
    } else {
        let c = dim(raster.channels)?;
        let x =
            Tensor::from_slice(&raster.data).view([1, c, dim(raster.height)?, dim(raster.width)?]);
        let y = x.f_internal_upsample_bilinear2d_aa([dim(h)?, dim(w)?], false, None, None)?;
        let y = if c == 1 { y.expand([1, 3, dim(h)?, dim(w)?], false) } else { y };
        Vec::<f32>::try_from(y.contiguous().view([-1]))?
    };
    Ok(Image { width: w, height: h, data })
}

/// The image as a `[1, channels, H, W]` float tensor on `device` (see [`to_channels`]).
pub fn to_tensor(image: &Image, channels: i64, device: Device) -> Result<Tensor> {
    let (h, w) = (dim(image.height)?, dim(image.width)?);
    let x = Tensor::from_slice(&image.data).view([1, 3, h, w]);
    Ok(to_channels(&x, channels)?.to_device(device))
}

/// A batch `[N, channels, H, W]` from images of one size.
pub fn batch(images: &[&Image], channels: i64, device: Device) -> Result<Tensor> {
    let Some(first) = images.first() else { return Err(Error::invalid("no images")) };
    if images.iter().any(|i| i.width != first.width || i.height != first.height) {
        return Err(Error::invalid("images in one batch must have the same size"));
    }
    let ts =
        images.iter().map(|i| to_tensor(i, channels, Device::Cpu)).collect::<Result<Vec<_>>>()?;
    Ok(Tensor::cat(&ts, 0).to_kind(Kind::Float).to_device(device))
}

/// An RGB batch `[N, 3, H, W]` as `channels` channels: as it is for 3; for 1, the gray value,
/// which is the channel mean (SPEC §9) and, where the three channels are equal (a grayscale
/// file replicated, every DICOM image), exactly that value.
pub fn to_channels(x: &Tensor, channels: i64) -> Result<Tensor> {
    match channels {
        3 => Ok(x.shallow_clone()),
        1 => {
            let r = x.narrow(1, 0, 1);
            let same =
                r.eq_tensor(&x.narrow(1, 1, 1)).logical_and(&r.eq_tensor(&x.narrow(1, 2, 1)));
            let mean = x.mean_dim([1_i64].as_slice(), true, Kind::Float);
            Ok(r.where_self(&same, &mean))
        }
        c => Err(Error::invalid(format!("{c} input channels: a model takes 1 or 3"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_is_replicated_and_resized() {
        let data: Vec<f32> = (0..32_u8).map(|i| f32::from(i % 8) * 30.0 / 255.0).collect();
        let r = Raster { width: 8, height: 4, channels: 1, bits: 8, data };
        let img = resize(&r, [4, 8]).expect("same size");
        assert_eq!((img.width, img.height), (8, 4));
        assert_eq!(&img.data[..32], &img.data[32..64]);
        assert_eq!(img.data[1], 30.0 / 255.0);
        let small = resize(&r, [2, 3]).expect("resized");
        assert_eq!((small.height, small.width, small.data.len()), (2, 3, 18));
        assert_eq!(&small.data[..6], &small.data[12..]);
    }

    #[test]
    fn one_channel_is_the_exact_gray_or_the_mean() {
        let gray = Image { width: 2, height: 1, data: vec![0.1, 0.7, 0.1, 0.7, 0.1, 0.7] };
        let t = to_tensor(&gray, 1, Device::Cpu).expect("gray");
        assert_eq!(t.size(), vec![1, 1, 1, 2]);
        assert_eq!(Vec::<f32>::try_from(t.view([-1])).ok(), Some(vec![0.1, 0.7]));
        let rgb = Image { width: 1, height: 1, data: vec![0.0, 0.3, 0.6] };
        let v = Vec::<f32>::try_from(to_tensor(&rgb, 1, Device::Cpu).expect("rgb").view([-1]));
        assert!((v.expect("values")[0] - 0.3).abs() < 1e-7);
        assert!(to_tensor(&rgb, 2, Device::Cpu).is_err());
        assert_eq!(to_tensor(&rgb, 3, Device::Cpu).expect("3").size(), vec![1, 3, 1, 1]);
    }
}

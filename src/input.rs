//! Model inputs: image files decoded (by `hx_formats`) and resized as torchvision's `Resize`
//! does on a tensor (bilinear, antialiased, align_corners = false, through the same libtorch
//! kernel), and images turned into tensors. Runs on the worker side only.

use std::path::Path;

use hx_formats::Raster;
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::io::image::Image;

/// Decodes `path` and resizes it to `size` = `[height, width]` unless it already has that
/// size; grayscale is replicated to three channels.
pub fn load_image(path: &Path, size: [usize; 2]) -> Result<Image> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let raster = hx_formats::decode_image(&bytes)
        .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
    resize(&raster, size)
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

/// The image as a `[1, 3, H, W]` float tensor on `device`.
pub fn to_tensor(image: &Image, device: Device) -> Result<Tensor> {
    let (h, w) = (dim(image.height)?, dim(image.width)?);
    Ok(Tensor::from_slice(&image.data).view([1, 3, h, w]).to_device(device))
}

/// A batch `[N, 3, H, W]` from images of one size.
pub fn batch(images: &[&Image], device: Device) -> Result<Tensor> {
    let Some(first) = images.first() else { return Err(Error::invalid("no images")) };
    if images.iter().any(|i| i.width != first.width || i.height != first.height) {
        return Err(Error::invalid("images in one batch must have the same size"));
    }
    let ts = images.iter().map(|i| to_tensor(i, Device::Cpu)).collect::<Result<Vec<_>>>()?;
    Ok(Tensor::cat(&ts, 0).to_kind(Kind::Float).to_device(device))
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
}

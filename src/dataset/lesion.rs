//! Lesion-mask localisation metrics: the share of positive heatmap mass inside the lesion mask
//! and the pointing game (does the heatmap's maximum fall inside the mask?).
//!
//! Masks are found where `phantom` writes them: `DIR/masks/<rel>` for a tree written without
//! splits, `DIR/../masks/<split>/<rel>` for a split folder such as `phantoms/test`. A mask is any
//! grayscale image, foreground where the pixel is above half scale; an all-background mask
//! (a NORMAL image) has no metrics.

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use crate::convert::to_i64;
use crate::error::Result;

/// Localisation of one heatmap against one lesion mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LesionScore {
    /// Positive heatmap mass inside the mask over all positive mass (NaN when the heatmap has
    /// no positive value).
    pub mass: f32,
    /// Whether the heatmap's maximum lies inside the mask.
    pub hit: bool,
}

/// The mask file of dataset image `rel` (relative to `dir`), if one exists.
pub fn mask_path(dir: &Path, rel: &str) -> Option<PathBuf> {
    let direct = dir.join("masks").join(rel);
    if direct.is_file() {
        return Some(direct);
    }
    let split = dir.file_name()?;
    let beside = dir.parent()?.join("masks").join(split).join(rel);
    beside.is_file().then_some(beside)
}

/// Loads a mask resized to `size` (`[height, width]`) as a `[H, W]` float tensor of 0 and 1.
pub fn load_mask(path: &Path, size: [usize; 2]) -> Result<Tensor> {
    let img = crate::input::load_image(path, size)?;
    let (h, w) = (to_i64(size[0]), to_i64(size[1]));
    let t = Tensor::from_slice(&img.data).view([3, h, w]).select(0, 0);
    Ok(t.gt(0.5).to_kind(Kind::Float))
}

/// Scores heatmaps `h` (`[B, C, H, W]`, C = 3 or 1) against masks (`[B, H, W]` of 0/1, on any device).
/// The heatmap is summed over channels first. Images whose mask is empty get `None`.
pub fn score(h: &Tensor, masks: &Tensor) -> Result<Vec<Option<LesionScore>>> {
    let dev = h.device();
    let m = masks.to_device(dev).to_kind(Kind::Float);
    let s = h.detach().to_kind(Kind::Float).sum_dim_intlist([1_i64].as_slice(), false, Kind::Float);
    let b = s.size()[0];
    let flat = s.view([b, -1]);
    let mflat = m.view([b, -1]);
    let pos = flat.clamp_min(0.0);
    let inside = (&pos * &mflat).sum_dim_intlist([1_i64].as_slice(), false, Kind::Float);
    let total = pos.sum_dim_intlist([1_i64].as_slice(), false, Kind::Float);
    let mass = (inside / total).to_device(Device::Cpu);
    let arg = flat.argmax(1, true);
    let hit = mflat.gather(1, &arg, false).view([b]).to_device(Device::Cpu);
    let area = mflat.sum_dim_intlist([1_i64].as_slice(), false, Kind::Float).to_device(Device::Cpu);
    let (mass, hit, area) =
        (Vec::<f32>::try_from(&mass)?, Vec::<f32>::try_from(&hit)?, Vec::<f32>::try_from(&area)?);
    Ok(mass
        .into_iter()
        .zip(hit)
        .zip(area)
        .map(|((mass, hit), area)| (area > 0.0).then_some(LesionScore { mass, hit: hit > 0.5 }))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_and_pointing() -> Result<()> {
        // Image 0: all positive mass inside except 1 of 4; maximum inside.
        // Image 1: maximum outside. Image 2: empty mask.
        let h = Tensor::from_slice(&[
            3.0_f32, 0.0, 1.0, -5.0, //
            0.0, 0.0, 9.0, 1.0, //
            1.0, 1.0, 1.0, 1.0,
        ])
        .view([3, 1, 2, 2])
        .repeat([1, 3, 1, 1]);
        let m =
            Tensor::from_slice(&[1.0_f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
                .view([3, 2, 2]);
        let s = score(&h, &m)?;
        assert_eq!(s[0], Some(LesionScore { mass: 0.75, hit: true }));
        assert_eq!(s[1], Some(LesionScore { mass: 0.1, hit: false }));
        assert_eq!(s[2], None);
        Ok(())
    }

    #[test]
    fn no_positive_mass_is_nan() -> Result<()> {
        let h = Tensor::from_slice(&[-1.0_f32, -2.0, -3.0, -4.0])
            .view([1, 1, 2, 2])
            .repeat([1, 3, 1, 1]);
        let m = Tensor::from_slice(&[1.0_f32, 0.0, 0.0, 0.0]).view([1, 2, 2]);
        let s = score(&h, &m)?;
        assert!(s[0].is_some_and(|l| l.mass.is_nan() && l.hit));
        Ok(())
    }
}

//! "What the model saw": the exact `[3, H, W]` tensor the model was given for the current image
//! (resized, windowed, channel-replicated, in [0, 1] before the model's own normalisation) as a
//! picture, with the facts a reader needs to trust it: its size, whether the channels are one
//! grey plane replicated, its value range and the window it was made with.

use std::sync::Arc;

use egui::ColorImage;

use crate::app::state::ImageEntry;
use crate::colormap;
use crate::model::ModelInfo;

/// The model's input as drawn.
#[derive(Debug, Clone)]
pub struct ModelInputView {
    /// The image's id (the picture's content id).
    pub image_id: u64,
    /// The tensor as an RGB picture, one pixel per tensor element.
    pub image: Arc<ColorImage>,
    /// Tensor width.
    pub width: usize,
    /// Tensor height.
    pub height: usize,
    /// The first channel's values, for the hover read-out.
    pub values: Vec<f32>,
    /// Lines of facts under the picture.
    pub lines: Vec<String>,
}

/// (min, max, mean) of all values.
fn stats(values: &[f32]) -> (f32, f32, f64) {
    let (lo, hi, sum) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY, 0.0_f64), |a, &v| {
        (a.0.min(v), a.1.max(v), a.2 + f64::from(v))
    });
    (lo, hi, sum / crate::convert::to_f64(values.len().max(1)))
}

/// Builds the view of `entry`'s model input; `window` describes the window it was made with
/// (DICOM), `model` the model it goes to.
pub fn build(
    entry: &ImageEntry,
    window: Option<String>,
    model: Option<&ModelInfo>,
) -> ModelInputView {
    let img = &entry.image;
    let (w, h) = (img.width, img.height);
    let n = w * h;
    let planes: Vec<&[f32]> = img.data.chunks(n.max(1)).take(3).collect();
    let replicated = planes.len() == 3 && planes[0] == planes[1] && planes[1] == planes[2];
    let one_channel = model.is_some_and(|m| m.channels == 1);
    let mut lines = vec![if one_channel {
        format!(
            "{w} × {h} × 1 channel{}",
            if replicated { ": the grey plane" } else { ": the mean of R, G and B" }
        )
    } else {
        format!(
            "{w} × {h} × 3 channels{}",
            if replicated { ": one grey plane replicated to R, G and B" } else { " (R, G, B)" }
        )
    }];
    let (lo, hi, mean) = stats(&img.data);
    lines.push(format!("values {lo:.4} to {hi:.4}, mean {mean:.4} (the [0, 1] scale)"));
    lines.push(match model {
        Some(m) => format!(
            "before the model's own normalisation ({}), which happens inside {}",
            m.normalize.name(),
            m.arch
        ),
        None => "no model loaded yet: this is what the next model will be given".to_owned(),
    });
    if let Some(win) = window {
        lines.push(format!("window: {win}"));
    }
    ModelInputView {
        image_id: entry.image_id,
        image: Arc::new(colormap::rgb(&img.data, w, h)),
        width: w,
        height: h,
        values: planes.first().map(|p| p.to_vec()).unwrap_or_default(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::Image;

    #[test]
    fn says_when_channels_are_replicated_and_the_range() {
        let grey = vec![0.25_f32, 0.5, 0.75, 1.0];
        let data: Vec<f32> = grey.iter().chain(&grey).chain(&grey).copied().collect();
        let e = ImageEntry::new("a.dcm".into(), Arc::new(Image { width: 2, height: 2, data }), 7);
        let v = build(&e, Some("W 400 L 40 · custom".into()), None);
        assert_eq!((v.width, v.height, v.image_id), (2, 2, 7));
        assert!(v.lines[0].contains("one grey plane replicated"), "{:?}", v.lines);
        assert!(v.lines[1].contains("0.2500 to 1.0000, mean 0.6250"), "{:?}", v.lines);
        assert_eq!(v.lines.last().map(String::as_str), Some("window: W 400 L 40 · custom"));
        assert_eq!(v.values, grey);
        let mut data = e.image.data.clone();
        data[4] = 0.0;
        let rgb = ImageEntry::new("b.png".into(), Arc::new(Image { width: 2, height: 2, data }), 8);
        assert!(build(&rgb, None, None).lines[0].contains("(R, G, B)"));
    }
}

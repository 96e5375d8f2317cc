//! The explorer's central view as data: the shown heatmap's panels (image, R, G, B, channel
//! sum, overlay, model input, change maps; for a 1-channel model one heatmap and one change
//! map) as colour images with the values behind them, the colour scale and the caption. Built
//! from the state when what is shown changes.

use std::sync::Arc;

use egui::ColorImage;

use super::planes::{abs_change, abs_max, channel_sum, grey, model_input, pixel_at, planes};
use crate::app::state::{AppState, ScaleMode};
use crate::ax::{HeatmapSource, Variant};
use crate::colormap;

/// What the view shows; the panels are rebuilt only when it changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplorerKey {
    image: usize,
    image_id: u64,
    source: HeatmapSource,
    /// The run or attribution result shown.
    content_id: u64,
    step: usize,
    has_next: bool,
    whole_max: f32,
    scale: ScaleMode,
    opacity: f32,
}

impl ExplorerKey {
    /// Whether `other` shows the same image and source (at another step or scale, say).
    pub fn same_image(&self, other: &Self) -> bool {
        (self.image, self.image_id, self.source, self.content_id)
            == (other.image, other.image_id, other.source, other.content_id)
    }

    /// The key of what `state` shows, or `None` when no image is open.
    pub fn of(state: &AppState) -> Option<Self> {
        let index = state.current?;
        let e = state.images.get(index)?;
        let mut key = Self {
            image: index,
            image_id: e.image_id,
            source: state.view,
            content_id: 0,
            step: 0,
            has_next: false,
            whole_max: 0.0,
            scale: state.scale,
            opacity: state.opacity,
        };
        match state.view {
            HeatmapSource::Gax => {
                if let Some(run) = &e.run
                    && let Some(last) = run.heatmaps.len().checked_sub(1)
                {
                    key.content_id = e.run_id;
                    key.step = state.timeline.selected.min(last);
                    key.has_next = key.step < last;
                    if state.scale == ScaleMode::WholeRun {
                        key.whole_max = run.steps.iter().fold(0.0_f32, |m, s| m.max(s.abs_max));
                    }
                }
            }
            HeatmapSource::Method(m) => {
                key.content_id = e.attributions.get(&m).map_or(0, |a| a.id);
            }
        }
        Some(key)
    }
}

/// The names of the panels a 3-channel heatmap view has, in grid order (the change maps only
/// for GAX).
pub const PANEL_NAMES: [&str; 10] = [
    "image",
    "heatmap R",
    "heatmap G",
    "heatmap B",
    "channel sum",
    "overlay",
    "model input",
    "change R",
    "change G",
    "change B",
];

/// The names of the panels a 1-channel model's view has: one heatmap and one change map instead
/// of R, G and B, and no channel sum (it would repeat the heatmap).
pub const PANEL_NAMES_ONE: [&str; 5] = ["image", "heatmap", "overlay", "model input", "change"];

/// The panel names of a view of `channels`-channel heatmaps, in grid order.
pub fn panel_names(channels: usize) -> &'static [&'static str] {
    if channels == 1 { &PANEL_NAMES_ONE } else { &PANEL_NAMES }
}

/// The heatmap and change panels' names and the channel letters in their titles.
fn channel_panels(channels: usize) -> &'static [(&'static str, &'static str, &'static str)] {
    if channels == 1 {
        &[("heatmap", "change", "")]
    } else {
        &[
            ("heatmap R", "change R", "R"),
            ("heatmap G", "change G", "G"),
            ("heatmap B", "change B", "B"),
        ]
    }
}

/// One panel: a colour image, its title, and the values under it for the hover read-out.
#[derive(Debug, Clone)]
pub struct Panel {
    /// The caption above the panel (e.g. `model input (x+h)`).
    pub title: String,
    /// The panel's stable name: texture name and "save panel" name (e.g. `model input`).
    pub name: &'static str,
    /// One value per pixel, `[h, w]`.
    pub values: Vec<f32>,
    /// The pixels.
    pub image: Arc<ColorImage>,
    /// Drawn smoothed (photographs) rather than as crisp cells (heatmaps).
    pub smooth: bool,
}

/// The central view of the current image.
#[derive(Debug, Clone)]
pub struct ExplorerView {
    /// What it shows.
    pub key: ExplorerKey,
    /// Identifies this build: the content id of its panels' textures.
    pub revision: u64,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Whether a heatmap is shown (else only the image panel).
    pub has_heatmap: bool,
    /// The heatmap's channels: 3, or 1 for a 1-channel model (one heatmap panel, one change
    /// map); without a heatmap, the loaded model's (3 when none is).
    pub channels: usize,
    /// The panels, in grid order.
    pub panels: Vec<Panel>,
    /// The colour scale: ±scale maps to full blue and red on the channel panels.
    pub scale: f32,
    /// max |h| of the shown heatmap.
    pub abs_max: f32,
    /// What is shown, e.g. `GAX step 3: CO 1.234, predicted NORMAL`.
    pub caption: String,
    /// The channel sum as a translucent layer (scale ±3·scale, the overlay's opacity) to lay
    /// over the full-resolution reading view.
    pub layer: Option<Arc<ColorImage>>,
}

impl ExplorerView {
    /// The pixel under fractions `(fx, fy)` of panel `panel` and its value.
    pub fn value_at(&self, panel: usize, fx: f32, fy: f32) -> Option<(usize, usize, f32)> {
        let (x, y) = pixel_at(fx, fy, self.width, self.height)?;
        let v = self.panels.get(panel)?.values.get(y * self.width + x).copied()?;
        Some((x, y, v))
    }

    /// The panel named `name`.
    pub fn panel(&self, name: &str) -> Option<&Panel> {
        self.panels.iter().find(|p| p.name == name)
    }
}

/// Heatmap values as the state keeps them, turned into f32 only where the view is built (off
/// the UI thread while a run streams).
#[derive(Debug, Clone)]
enum Values {
    /// A method's heatmap.
    Full(Arc<Vec<f32>>),
    /// A GAX step's heatmap, in half precision.
    Half(crate::gax::CompactHeatmap),
}

impl Values {
    fn into_f32(self) -> Vec<f32> {
        match self {
            Self::Full(v) => Arc::unwrap_or_clone(v),
            Self::Half(c) => c.to_f32(),
        }
    }

    fn to_f32(&self) -> Vec<f32> {
        match self {
            Self::Full(v) => v.to_vec(),
            Self::Half(c) => c.to_f32(),
        }
    }
}

/// The change maps of a GAX step: |h[to] − h[from]|, the heatmap of the other step, and
/// whether this is the last change of the run shown at its last step (t−1 → t).
#[derive(Debug, Clone)]
struct Change {
    other: Values,
    from: usize,
    to: usize,
    last: bool,
}

impl Change {
    /// The change panel's title for channel `c` (empty for a 1-channel heatmap).
    fn title(&self, c: &str) -> String {
        let (from, to) = (self.from, self.to);
        let name = if c.is_empty() { "change".to_owned() } else { format!("change {c}") };
        if self.last {
            format!("{name} (step {from} -> {to}, the last change)")
        } else {
            format!("{name} (step {from} -> {to})")
        }
    }
}

/// The heatmap on show: values `[C, H, W]` (C = 3 or 1), its change maps (GAX: `Some(None)` before a
/// second step), variant, the run's max |h| and the caption.
#[derive(Debug, Clone)]
struct Shown {
    heat: Values,
    next: Option<Option<Change>>,
    variant: Variant,
    whole_max: f32,
    caption: String,
}

fn shown(state: &AppState, key: &ExplorerKey) -> Option<Shown> {
    let e = state.images.get(key.image)?;
    // A multi-label model's caption names the pathology the heatmap explains.
    let multilabel = state.model.as_ref().is_some_and(|m| m.multilabel);
    let target = |t: i64| {
        if multilabel { format!(", target {}", state.class_name(t)) } else { String::new() }
    };
    match key.source {
        HeatmapSource::Gax => {
            let run = e.run.as_ref()?;
            let t = key.step;
            let s = run.steps.get(t)?;
            let next = if key.has_next {
                Some(Change {
                    other: Values::Half(run.heatmaps[t + 1].clone()),
                    from: t,
                    to: t + 1,
                    last: false,
                })
            } else {
                let before = t.checked_sub(1).and_then(|p| run.heatmaps.get(p));
                before.map(|b| Change {
                    other: Values::Half(b.clone()),
                    from: t - 1,
                    to: t,
                    last: true,
                })
            };
            Some(Shown {
                heat: Values::Half(run.heatmaps.get(t)?.clone()),
                next: Some(next),
                variant: run.config.variant,
                whole_max: run.steps.iter().fold(0.0_f32, |m, s| m.max(s.abs_max)),
                caption: format!(
                    "GAX step {t}{}: CO {:.3}, predicted {}",
                    target(run.label),
                    s.co,
                    state.class_name(s.predicted)
                ),
            })
        }
        HeatmapSource::Method(m) => {
            let a = e.attributions.get(&m)?;
            Some(Shown {
                heat: Values::Full(Arc::clone(&a.heatmap)),
                next: None,
                variant: Variant::Sum,
                whole_max: 1.0,
                caption: format!(
                    "{m}{}: CO sum {:.3}, mult {:.3}",
                    target(a.target),
                    a.co_sum,
                    a.co_mult
                ),
            })
        }
    }
}

fn panel(
    title: impl Into<String>,
    name: &'static str,
    values: Vec<f32>,
    image: ColorImage,
) -> Panel {
    let smooth = matches!(name, "image" | "overlay" | "model input");
    Panel { title: title.into(), name, values, image: Arc::new(image), smooth }
}

/// Builds the view of `key` from `state`.
pub fn build(state: &AppState, key: ExplorerKey) -> Option<ExplorerView> {
    prepare(state, key).map(Prepared::build)
}

/// What a build of the view needs, taken from the state (cheap: shared pixels, half-precision
/// heatmaps); [`Prepared::build`] does the pixel work anywhere, another thread included.
#[derive(Debug, Clone)]
pub struct Prepared {
    key: ExplorerKey,
    image: Arc<crate::io::image::Image>,
    shown: Option<Shown>,
    /// The loaded model's input channels (3 when none is), for a view without a heatmap.
    channels: usize,
}

/// The inputs of the view of `key`, or `None` when its image is gone.
pub fn prepare(state: &AppState, key: ExplorerKey) -> Option<Prepared> {
    let e = state.images.get(key.image)?;
    let channels = state.model.as_ref().map_or(3, |m| crate::convert::to_usize(m.channels));
    Some(Prepared { key, image: Arc::clone(&e.image), shown: shown(state, &key), channels })
}

impl Prepared {
    /// What it shows.
    pub fn key(&self) -> ExplorerKey {
        self.key
    }

    /// The view: colour mapping and the planes behind every panel.
    pub fn build(self) -> ExplorerView {
        build_view(self.key, &self.image, self.shown, self.channels)
    }
}

fn build_view(
    key: ExplorerKey,
    img: &crate::io::image::Image,
    shown: Option<Shown>,
    model_channels: usize,
) -> ExplorerView {
    let (h, w) = (img.height, img.width);
    let n = h * w;
    let image = &img.data;
    let image_panel = || panel("image", "image", image[..n].to_vec(), colormap::rgb(image, w, h));
    let Some(s) = shown else {
        return ExplorerView {
            key,
            revision: 0,
            width: w,
            height: h,
            has_heatmap: false,
            channels: model_channels,
            panels: vec![image_panel()],
            scale: 1.0,
            abs_max: 0.0,
            caption: String::new(),
            layer: None,
        };
    };
    let heat = &s.heat.into_f32();
    let channels = planes(heat, n);
    let abs_max = abs_max(heat);
    let scale = match key.scale {
        ScaleMode::Fixed => 1.0,
        ScaleMode::PerStep => abs_max,
        ScaleMode::WholeRun => s.whole_max,
        ScaleMode::Percentile => colormap::abs_quantile(heat, 0.99),
    };
    // |Σ_c h_c| ≤ C·max|h|: the sum, overlay and layer are drawn on ±C·scale.
    let sum_scale = crate::convert::to_f32(channels) * scale;
    let sum = channel_sum(heat, n);
    let mut panels = vec![image_panel()];
    let names = channel_panels(channels);
    for (k, &(name, _, _)) in names.iter().take(channels).enumerate() {
        let v = plane(heat, k, n);
        let img = colormap::signed_plane(&v, w, h, scale);
        panels.push(panel(name, name, v, img));
    }
    if channels != 1 {
        let sum_img = colormap::signed_plane(&sum, w, h, sum_scale);
        panels.push(panel("channel sum", "channel sum", sum.clone(), sum_img));
    }
    let overlay = colormap::overlay(image, &sum, w, h, sum_scale, key.opacity);
    let layer = colormap::signed_layer(&sum, w, h, sum_scale, key.opacity);
    panels.push(panel("overlay", "overlay", sum, overlay));
    panels.push(input_panel(s.variant, image, heat, channels, (w, h)));
    if let Some(next) = s.next {
        let change = next
            .as_ref()
            .map_or_else(|| vec![0.0; channels * n], |c| abs_change(heat, &c.other.to_f32()));
        for (k, &(_, name, c)) in names.iter().take(channels).enumerate() {
            let v = plane(&change, k, n);
            // |h[t+1] − h[t]| ≤ 2 always; one fixed scale keeps frames comparable across the run.
            let img = colormap::magnitude_plane(&v, w, h, 0.1);
            let title = next
                .as_ref()
                .map_or_else(|| format!("{name}: none yet (one step)"), |ch| ch.title(c));
            panels.push(panel(title, name, v, img));
        }
    }
    ExplorerView {
        key,
        revision: 0,
        width: w,
        height: h,
        has_heatmap: true,
        channels,
        panels,
        scale,
        abs_max,
        caption: s.caption,
        layer: Some(Arc::new(layer)),
    }
}

/// Plane `k` of a planar `[C, n]` array (zeros where the array is short).
fn plane(v: &[f32], k: usize, n: usize) -> Vec<f32> {
    v.get(k * n..(k + 1) * n).map_or_else(|| vec![0.0; n], <[f32]>::to_vec)
}

/// The model input panel: x + h or x ⊙ h in colour, or for a 1-channel heatmap the grey plane
/// the model was given with h applied to it.
fn input_panel(
    variant: Variant,
    image: &[f32],
    heat: &[f32],
    channels: usize,
    (w, h): (usize, usize),
) -> Panel {
    let n = w * h;
    let title = format!("model input ({})", if variant == Variant::Sum { "x+h" } else { "x*h" });
    if channels == 1 {
        let xp = model_input(variant, &grey(image, n), heat);
        let img = colormap::grey(&xp, w, h);
        return panel(title, "model input", xp, img);
    }
    let xp = model_input(variant, image, heat);
    panel(title, "model input", xp[..n].to_vec(), colormap::rgb(&xp, w, h))
}

#[cfg(test)]
mod tests;

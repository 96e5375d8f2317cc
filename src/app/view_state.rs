//! How the explorer's view is set up: colour scales, the panel arrangement (grid or focus,
//! hidden panels) and the linked zoom. Plain data, kept between sessions by `settings`.

use serde::{Deserialize, Serialize};

/// How heatmap values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ScaleMode {
    /// ±1 (heatmaps live in (−1, 1)).
    #[default]
    Fixed,
    /// ± the shown step's abs max.
    PerStep,
    /// ± the whole run's abs max.
    WholeRun,
    /// ± the 99th percentile of |h| at the shown step.
    Percentile,
}

impl ScaleMode {
    /// All modes, in menu order.
    pub const ALL: [Self; 4] = [Self::Fixed, Self::PerStep, Self::WholeRun, Self::Percentile];

    /// The menu text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Fixed => "fixed ±1",
            Self::PerStep => "per-step abs max",
            Self::WholeRun => "whole-run abs max",
            Self::Percentile => "99th percentile",
        }
    }
}

/// How the comparison tiles map values to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CompareScale {
    /// Each map on its own scale ±max |sum| (as AX normalises each map by its own maximum).
    #[default]
    Own,
    /// All maps on one scale: ± the largest max |sum| among the methods' maps.
    Shared,
}

impl CompareScale {
    /// Both, in menu order.
    pub const ALL: [Self; 2] = [Self::Own, Self::Shared];

    /// The menu text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Own => "each map on its own scale",
            Self::Shared => "one shared scale",
        }
    }
}

/// How the central view arranges its panels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ViewLayout {
    /// All shown panels in a grid, four to a row.
    #[default]
    Grid,
    /// One large panel and a strip of small ones to switch to.
    Focus,
}

impl ViewLayout {
    /// Both, in menu order.
    pub const ALL: [Self; 2] = [Self::Grid, Self::Focus];

    /// The button text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Focus => "focus",
        }
    }
}

/// The central view's arrangement: grid or focus, the focused panel and the hidden ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewPanels {
    /// Grid or focus mode.
    pub layout: ViewLayout,
    /// The large panel in focus mode, by name (e.g. `overlay`).
    pub focus: String,
    /// Panels the grid leaves out, by name.
    pub hidden: std::collections::BTreeSet<String>,
}

impl Default for ViewPanels {
    fn default() -> Self {
        Self { layout: ViewLayout::Grid, focus: "overlay".to_owned(), hidden: Default::default() }
    }
}

/// Linked zoom and pan of every image panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoomPan {
    /// Magnification (1 = whole image).
    pub zoom: f32,
    /// Centre of the view in [0, 1] image coordinates.
    pub center: [f32; 2],
}

impl Default for ZoomPan {
    fn default() -> Self {
        Self { zoom: 1.0, center: [0.5, 0.5] }
    }
}

impl ZoomPan {
    /// Zooms by a scroll of `scroll` points towards `center` (fractions of the image).
    pub fn zoom_at(&mut self, scroll: f32, center: [f32; 2]) {
        self.zoom = (self.zoom * (1.0 + scroll * 0.002)).clamp(1.0, 32.0);
        self.center = center;
    }

    /// Pans by a drag of `delta` panel sides.
    pub fn pan(&mut self, delta: [f32; 2]) {
        self.center[0] -= delta[0] / self.zoom;
        self.center[1] -= delta[1] / self.zoom;
    }

    /// The visible part of the image as a UV rectangle.
    pub fn uv(&self) -> ([f32; 2], [f32; 2]) {
        let half = 0.5 / self.zoom.max(1.0);
        let cx = self.center[0].clamp(half, 1.0 - half);
        let cy = self.center[1].clamp(half, 1.0 - half);
        ([cx - half, cy - half], [cx + half, cy + half])
    }
}

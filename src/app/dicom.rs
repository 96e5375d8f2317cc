//! DICOM reading on an opened image: the window on show and the window the model input was
//! made with, the frame, and the intents that change them. The window on show changes live
//! (a drag, a typed value) and is windowed on the UI side from the frame's modality values; a
//! committed change asks the worker for the model input again (from its parsed file, no
//! re-decode) and the model predicts again when it arrives.

use std::sync::Arc;

use hx_formats::Window;

use super::App;
use super::state::Pending;
use crate::input::LoadOptions;
use crate::io::dicom::DicomSource;
use crate::view_model::window::{self as win, Resolved};
use crate::worker::Command;

/// A grayscale DICOM image's reading state.
#[derive(Debug, Clone)]
pub struct DicomEntry {
    /// The frame's modality values, presets and facts.
    pub source: Arc<DicomSource>,
    /// Identifies `source` (a new one per frame received).
    pub source_id: u64,
    /// The window the model input is made with (committed).
    pub window: Window,
    /// The frame the model input is made from (committed).
    pub frame: usize,
    /// The window on show: `window`, or a change not committed yet (during a drag).
    pub shown: Window,
    /// During a drag: where it started (center, width) and the total movement in points.
    pub drag: Option<((f64, f64), [f32; 2])>,
}

impl DicomEntry {
    /// A newly opened file under `options`.
    pub fn new(source: Arc<DicomSource>, source_id: u64, options: LoadOptions) -> Self {
        Self {
            source,
            source_id,
            window: options.window,
            frame: options.frame,
            shown: options.window,
            drag: None,
        }
    }

    /// The window and frame of the model input.
    pub fn options(&self) -> LoadOptions {
        LoadOptions { window: self.window, frame: self.frame }
    }

    /// The window on show, resolved against the frame.
    pub fn resolved(&self) -> Result<Resolved, String> {
        win::resolve(&self.source, &self.shown)
    }
}

/// Reading options shared by every image.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Invert the displayed image (display only: the model input is not inverted).
    pub invert: bool,
    /// List every header attribute (identifiers included) in the controls.
    pub show_header: bool,
    /// Show the "what the model saw" panel.
    pub model_input: bool,
    /// The P of the percentile window.
    pub percentile: f64,
}

impl Default for Reading {
    fn default() -> Self {
        Self { invert: false, show_header: false, model_input: false, percentile: 1.0 }
    }
}

impl App {
    /// The current image's DICOM state, if it is a grayscale DICOM file.
    pub fn current_dicom(&self) -> Option<&DicomEntry> {
        self.state.current_entry().and_then(|e| e.dicom.as_ref())
    }

    fn current_dicom_mut(&mut self) -> Option<&mut DicomEntry> {
        self.state.current_entry_mut().and_then(|e| e.dicom.as_mut())
    }

    /// Shows `window` without committing it (typed values while editing).
    pub fn preview_window(&mut self, window: Window) {
        if let Some(d) = self.current_dicom_mut() {
            d.shown = window;
        }
    }

    /// Applies `window` to the current DICOM image: shown at once, and the model input made
    /// again with it (the model predicts again when it arrives). A window that cannot apply
    /// (a missing preset, a width below 1) is an error and changes nothing.
    pub fn set_window(&mut self, window: Window) {
        let Some(d) = self.current_dicom_mut() else { return };
        if let Err(e) = win::resolve(&d.source, &window) {
            self.state.error(format!("window: {e}"));
            return;
        }
        d.drag = None;
        d.shown = window;
        if d.window == window {
            return;
        }
        d.window = window;
        self.remake_input();
    }

    /// Shows and commits frame `frame` (0-based) of the current multi-frame DICOM image.
    pub fn set_frame(&mut self, frame: usize) {
        let Some(d) = self.current_dicom_mut() else { return };
        let frames = d.source.facts.frames;
        if frame >= frames {
            let message = format!("frame {frame}: the file has frames 0 to {}", frames - 1);
            self.state.error(message);
            return;
        }
        if d.frame != frame {
            d.frame = frame;
            self.remake_input();
        }
    }

    /// A drag of `delta` points on the image: right widens, down raises the level (shown live;
    /// committed by [`Self::end_window_drag`]).
    pub fn drag_window(&mut self, delta: [f32; 2]) {
        let Some(d) = self.current_dicom_mut() else { return };
        if d.drag.is_none() {
            let Ok(r) = d.resolved() else { return };
            d.drag = Some(((r.center, r.width), [0.0, 0.0]));
        }
        if let Some((start, total)) = &mut d.drag {
            total[0] += delta[0];
            total[1] += delta[1];
            d.shown = win::dragged(*start, *total, win::drag_step(&d.source));
        }
    }

    /// The end of a drag on the image: the window reached is applied to the model input.
    pub fn end_window_drag(&mut self) {
        let Some(d) = self.current_dicom_mut() else { return };
        if d.drag.take().is_some() {
            let shown = d.shown;
            self.set_window(shown);
        }
    }

    /// Makes the current image's model input again under its committed window and frame: its
    /// prediction, heatmaps and GAX run belonged to the previous input and are dropped.
    fn remake_input(&mut self) {
        let Some(i) = self.state.current else { return };
        if self.state.pending.get(&self.state.gax_job.unwrap_or_default()) == Some(&Pending::Gax(i))
        {
            self.stop();
        }
        let size = self.input_size();
        let e = &mut self.state.images[i];
        let had_run = e.run.take().is_some();
        e.prediction = None;
        e.attributions.clear();
        let (path, options) = (e.path.clone(), e.load_options());
        self.submit(
            |job| Command::LoadImage { job, path, size: Some(size), options },
            Pending::Reload(i),
        );
        let what = match self.current_dicom().map(DicomEntry::resolved) {
            Some(Ok(r)) => r.readout(),
            _ => options.window.to_string(),
        };
        self.state.info(if had_run {
            format!("window {what}: predicting again (the GAX run was for the previous input)")
        } else {
            format!("window {what}: predicting again")
        });
    }
}

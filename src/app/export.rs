//! Saving runs and exporting arrays and curves from the explorer.

use std::path::Path;

use super::App;
use crate::ax::HeatmapSource;
use crate::error::{Error, Result};
use crate::io::runfile::RunRecord;

impl App {
    /// Runs `write` on a thread of its own (files can be large and disks slow: the window never
    /// waits), reporting "`what` written to `path`" or the error when it ends.
    fn in_background(
        &mut self,
        ctx: Option<egui::Context>,
        what: String,
        path: &Path,
        write: impl FnOnce() -> Result<()> + Send + 'static,
    ) {
        let tx = self.background.0.clone();
        let path = path.to_owned();
        self.state.exports_running += 1;
        self.state.info(format!("writing {what} to {}...", path.display()));
        let spawned = std::thread::Builder::new().name("export".into()).spawn(move || {
            let r = match write() {
                Ok(()) => Ok(format!("{what} written to {}", path.display())),
                Err(Error::Cancelled) => {
                    Ok(format!("{what} cancelled; {} untouched", path.display()))
                }
                Err(e) => Err(e.to_string()),
            };
            let _ = tx.send(r);
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        if let Err(e) = spawned {
            self.state.exports_running -= 1;
            self.state.error(format!("could not start the export: {e}"));
        }
    }

    /// Writes `what` of the current GAX run to `path` with `write`, in the background.
    fn write_run(
        &mut self,
        what: &str,
        path: &Path,
        write: impl FnOnce(&RunRecord, &Path) -> Result<()> + Send + 'static,
    ) {
        let Some(run) = self.state.current_run().cloned() else {
            self.state.error("no GAX run");
            return;
        };
        let target = path.to_owned();
        self.in_background(self.ctx.clone(), what.to_owned(), path, move || write(&run, &target));
    }

    /// Saves the current GAX run file.
    pub fn save_run(&mut self, path: &Path) {
        self.write_run("run", path, |run, p| run.save(p));
    }

    /// Exports the current run's step stack `[T, C, H, W]` (C = 3, or 1 for a 1-channel model).
    pub fn export_steps_npy(&mut self, path: &Path) {
        self.write_run("steps", path, |run, p| run.export_npy(p));
    }

    /// Exports the current run's CO curve as CSV.
    pub fn export_trace_csv(&mut self, path: &Path) {
        self.write_run("curve", path, |run, p| {
            crate::io::write_atomic(p, run.trace_csv().as_bytes())
        });
    }

    /// Whether exports started from the app are still being written.
    pub fn exports_running(&self) -> bool {
        self.state.exports_running > 0
    }

    /// Exports the heatmap on show (the selected GAX step or a method's) as `[C, H, W]` .npy:
    /// `[3, H, W]`, or `[1, H, W]` for a 1-channel model (as `attribute --out` writes it).
    pub fn export_heatmap_npy(&mut self, path: &Path) {
        let Some((data, h, w)) = self.shown_heatmap() else {
            self.state.error("no heatmap on show");
            return;
        };
        let c = crate::view_model::planes::planes(&data, h * w);
        let target = path.to_owned();
        self.in_background(self.ctx.clone(), "heatmap".into(), path, move || {
            crate::io::npy::write_f32(&target, &[c, h, w], &data)
        });
    }

    /// The heatmap the view shows: `(values [C, H, W], H, W)`, C = 3 or 1.
    pub fn shown_heatmap(&self) -> Option<(Vec<f32>, usize, usize)> {
        let e = self.state.current_entry()?;
        let (h, w) = (e.image.height, e.image.width);
        match self.state.view {
            HeatmapSource::Gax => {
                let run = e.run.as_ref()?;
                let idx = self.state.timeline.selected.min(run.heatmaps.len().checked_sub(1)?);
                Some((run.heatmaps[idx].to_f32(), h, w))
            }
            HeatmapSource::Method(m) => e.attributions.get(&m).map(|a| (a.heatmap.to_vec(), h, w)),
        }
    }
}

/// An egui image as an `image` crate RGBA buffer.
fn to_rgba(image: &egui::ColorImage) -> Result<image::RgbaImage> {
    let [w, h] = image.size;
    let bytes: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
    let side = |v: usize| {
        u32::try_from(v).map_err(|_| Error::invalid(format!("image side {v} is too large")))
    };
    image::RgbaImage::from_raw(side(w)?, side(h)?, bytes)
        .ok_or_else(|| Error::invalid("bad image size"))
}

/// Writes an egui image as PNG.
pub fn write_png(path: &Path, image: &egui::ColorImage) -> Result<()> {
    let img = to_rgba(image)?;
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
    crate::io::write_atomic(path, buf.get_ref())
}

impl App {
    /// Saves one panel of the view (as last drawn) as PNG.
    pub fn export_panel_png(&mut self, panel: &str, path: &Path) {
        let view = self.views.last_explorer();
        let Some(image) = view.as_ref().and_then(|v| v.panel(panel)).map(|p| p.image.clone())
        else {
            self.state.error(format!("panel '{panel}' is not on show"));
            return;
        };
        let target = path.to_owned();
        self.in_background(self.ctx.clone(), format!("panel '{panel}'"), path, move || {
            write_png(&target, &image)
        });
    }

    /// Exports what the model saw for the current image: its `[3, H, W]` input in [0, 1]
    /// (`[1, H, W]` for a 1-channel model), before the model's own normalisation.
    pub fn export_model_input_npy(&mut self, path: &Path) {
        let Some(image) = self.state.current_entry().map(|e| std::sync::Arc::clone(&e.image))
        else {
            self.state.error("no image");
            return;
        };
        let one_channel = self.state.model.as_ref().is_some_and(|m| m.channels == 1);
        let target = path.to_owned();
        self.in_background(self.ctx.clone(), "model input".into(), path, move || {
            let (h, w) = (image.height, image.width);
            if one_channel {
                let grey = crate::view_model::planes::grey(&image.data, h * w);
                crate::io::npy::write_f32(&target, &[1, h, w], &grey)
            } else {
                crate::io::npy::write_f32(&target, &[3, h, w], &image.data)
            }
        });
    }

    /// Asks the window for a screenshot of the whole view and saves it as PNG when it arrives.
    /// The DICOM header list is closed first: it holds identifiers, which no export may show.
    pub fn export_view_png(&mut self, ctx: &egui::Context, path: &Path) {
        self.state.reading.show_header = false;
        let tx = self.background.0.clone();
        let path = path.to_owned();
        let waker = ctx.clone();
        self.state.exports_running += 1;
        ctx.request_screenshot(move |img| {
            let r = write_png(&path, &img)
                .map(|()| format!("view written to {}", path.display()))
                .map_err(|e| e.to_string());
            let _ = tx.send(r);
            waker.request_repaint();
        });
        self.state.info("taking a screenshot...");
    }

    /// Reports exports and screenshots that finished since the last frame.
    pub fn poll_background(&mut self) {
        while let Ok(r) = self.background.1.try_recv() {
            self.state.exports_running = self.state.exports_running.saturating_sub(1);
            if self.state.exports_running == 0 {
                self.export_cancel.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            match r {
                Ok(message) => self.state.info(message),
                Err(e) => self.state.error(e),
            }
        }
    }

    /// Writes the current GAX run as an animated GIF of the channel-sum heatmap (scale ±C),
    /// at most 200 frames spread evenly over the run; [`App::cancel_exports`] stops it.
    pub fn export_gif(&mut self, path: &Path) {
        let cancel = self.export_cancel.clone();
        self.write_run("GIF", path, move |run, p| {
            write_gif(run, p, &|| cancel.load(std::sync::atomic::Ordering::Relaxed))
        });
    }

    /// Asks the exports still running to stop (the GIF export stops at its next frame; the
    /// file it would replace stays as it was).
    pub fn cancel_exports(&mut self) {
        if self.state.exports_running > 0 {
            self.export_cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Writes `run` as an animated GIF of the channel-sum heatmap (scale ±C: ±3, or ±1 for a
/// 1-channel model's single plane), at most 200 frames
/// spread evenly over the run. Returns [`Error::Cancelled`] without touching `path` as soon as
/// `cancel` says so (checked before every frame and before the write).
pub fn write_gif(run: &RunRecord, path: &Path, cancel: &dyn Fn() -> bool) -> Result<()> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let (h, w) = (run.image.height, run.image.width);
    let n = h * w;
    let t = run.heatmaps.len();
    if t == 0 {
        return Err(Error::invalid("the run has no steps"));
    }
    // |Σ_c h_c| ≤ C: ±3 for three channels, ±1 for a 1-channel model's single plane.
    let scale = crate::convert::to_f32(run.channels());
    let stride = t.div_ceil(200).max(1);
    let mut buf = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut buf, 10);
        let err =
            |e: image::ImageError| Error::Image { path: path.to_owned(), message: e.to_string() };
        enc.set_repeat(Repeat::Infinite).map_err(err)?;
        for i in (0..t)
            .step_by(stride)
            .chain(std::iter::once(t - 1))
            .collect::<std::collections::BTreeSet<_>>()
        {
            if cancel() {
                return Err(Error::Cancelled);
            }
            let sum = crate::view_model::planes::channel_sum(&run.heatmaps[i].to_f32(), n);
            let frame = to_rgba(&crate::colormap::signed_plane(&sum, w, h, scale))?;
            enc.encode_frame(image::Frame::from_parts(
                frame,
                0,
                0,
                image::Delay::from_numer_denom_ms(50, 1),
            ))
            .map_err(err)?;
        }
    }
    if cancel() {
        return Err(Error::Cancelled);
    }
    crate::io::write_atomic(path, &buf)
}

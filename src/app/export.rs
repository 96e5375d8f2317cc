//! Saving runs and exporting arrays and curves from the explorer.

use std::path::Path;

use super::App;
use super::background::{Control, Done};
use crate::ax::HeatmapSource;
use crate::error::{Error, Result};
use crate::io::runfile::RunRecord;

impl App {
    /// Encodes `what` with `encode` and writes it to `path` atomically, on a thread of its own
    /// (files can be large and disks slow: the window never waits). The status line then says
    /// "`what` written to `path`", that it was cancelled (the file untouched), or the error.
    fn in_background(
        &mut self,
        what: String,
        path: &Path,
        encode: impl FnOnce(&Control) -> Result<Vec<u8>> + Send + 'static,
    ) {
        let path = path.to_owned();
        self.state.info(format!("writing {what} to {}...", path.display()));
        self.tasks.spawn("export", move |cancel| {
            Done::Written(encode_and_write(&what, &path, cancel, encode))
        });
    }

    /// Writes `what` of the current GAX run to `path`, encoded by `encode`, in the background
    /// (the run is shared with the thread, not copied).
    fn write_run(
        &mut self,
        what: &str,
        path: &Path,
        encode: impl FnOnce(&RunRecord, &Control) -> Result<Vec<u8>> + Send + 'static,
    ) {
        let Some(run) = self.state.current_entry().and_then(|e| e.run.clone()) else {
            self.state.error("no GAX run");
            return;
        };
        self.in_background(what.to_owned(), path, move |cancel| encode(&run, cancel));
    }

    /// Saves the current GAX run file.
    pub fn save_run(&mut self, path: &Path) {
        self.write_run("run", path, |run, _| run.to_bytes());
    }

    /// Exports the current run's step stack `[T, C, H, W]` (C = 3, or 1 for a 1-channel model).
    pub fn export_steps_npy(&mut self, path: &Path) {
        self.write_run("steps", path, |run, _| run.steps_npy());
    }

    /// Exports the current run's CO curve as CSV.
    pub fn export_trace_csv(&mut self, path: &Path) {
        self.write_run("curve", path, |run, _| Ok(run.trace_csv().into_bytes()));
    }

    /// Whether exports, saves or run-file opens started from the app are still running.
    pub fn exports_running(&self) -> bool {
        self.tasks.running() > 0
    }

    /// Parts done and in all (e.g. GIF frames) over the running exports that report progress.
    pub fn export_progress(&self) -> Option<(usize, usize)> {
        self.tasks.progress()
    }

    /// Exports the heatmap on show (the selected GAX step or a method's) as `[C, H, W]` .npy:
    /// `[3, H, W]`, or `[1, H, W]` for a 1-channel model (as `attribute --out` writes it).
    pub fn export_heatmap_npy(&mut self, path: &Path) {
        let Some((data, h, w)) = self.shown_heatmap() else {
            self.state.error("no heatmap on show");
            return;
        };
        let c = crate::view_model::planes::planes(&data, h * w);
        self.in_background("heatmap".into(), path, move |_| {
            crate::io::npy::encode_f32(&[c, h, w], &data)
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

/// An egui image encoded as PNG (`path` names the file in an error).
fn png_bytes(path: &Path, image: &egui::ColorImage) -> Result<Vec<u8>> {
    let img = to_rgba(image)?;
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
    Ok(buf.into_inner())
}

/// Encodes with `encode` and, unless `cancel` was set meanwhile, writes the bytes to `path`
/// atomically: the status message for `what`, or the error.
fn encode_and_write(
    what: &str,
    path: &Path,
    cancel: &Control,
    encode: impl FnOnce(&Control) -> Result<Vec<u8>>,
) -> std::result::Result<String, String> {
    let written = encode(cancel).and_then(|bytes| {
        if cancel.cancelled() {
            return Err(Error::Cancelled);
        }
        crate::io::write_atomic(path, &bytes)
    });
    match written {
        Ok(()) => Ok(format!("{what} written to {}", path.display())),
        Err(Error::Cancelled) => Ok(format!("{what} cancelled; {} untouched", path.display())),
        Err(e) => Err(e.to_string()),
    }
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
        self.in_background(format!("panel '{panel}'"), path, move |_| png_bytes(&target, &image));
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
        self.in_background("model input".into(), path, move |_| {
            let (h, w) = (image.height, image.width);
            if one_channel {
                let grey = crate::view_model::planes::grey(&image.data, h * w);
                crate::io::npy::encode_f32(&[1, h, w], &grey)
            } else {
                crate::io::npy::encode_f32(&[3, h, w], &image.data)
            }
        });
    }

    /// Asks the window for a screenshot of the whole view and saves it as PNG when it arrives
    /// (encoded and written on a thread of its own).
    /// The DICOM header list is closed first: it holds identifiers, which no export may show.
    pub fn export_view_png(&mut self, ctx: &egui::Context, path: &Path) {
        self.state.reading.show_header = false;
        let starter = self.tasks.prepare("no screenshot came from the window");
        let path = path.to_owned();
        ctx.request_screenshot(move |img| {
            starter.start("export", move |cancel| {
                let encode = |_: &Control| png_bytes(&path, &img);
                Done::Written(encode_and_write("view", &path, cancel, encode))
            });
        });
        self.state.info("taking a screenshot...");
    }

    /// Writes the current GAX run as an animated GIF of the channel-sum heatmap (scale ±C),
    /// at most 200 frames spread evenly over the run; [`App::cancel_exports`] stops it.
    pub fn export_gif(&mut self, path: &Path) {
        let target = path.to_owned();
        self.write_run("GIF", path, move |run, c| {
            gif_bytes(run, &target, &|| c.cancelled(), &|done, total| c.progress(done, total))
        });
    }

    /// Asks the exports, saves and run-file opens still running to stop (a write stops before
    /// its next GIF frame or before the file is written, leaving the file it would replace as
    /// it was; an open's run is dropped), and stops opening a review folder.
    pub fn cancel_exports(&mut self) {
        self.tasks.cancel_all();
        self.cancel_review_open();
    }
}

/// Writes `run` as an animated GIF of the channel-sum heatmap (scale ±C: ±3, or ±1 for a
/// 1-channel model's single plane), at most 200 frames
/// spread evenly over the run. Returns [`Error::Cancelled`] without touching `path` as soon as
/// `cancel` says so (checked before every frame and before the write).
pub fn write_gif(run: &RunRecord, path: &Path, cancel: &dyn Fn() -> bool) -> Result<()> {
    let bytes = gif_bytes(run, path, cancel, &|_, _| {})?;
    if cancel() {
        return Err(Error::Cancelled);
    }
    crate::io::write_atomic(path, &bytes)
}

/// `run` as an animated GIF, as [`write_gif`] writes it (`path` names the file in an error),
/// telling `progress` the frames done and in all; [`Error::Cancelled`] as soon as `cancel` says
/// so.
fn gif_bytes(
    run: &RunRecord,
    path: &Path,
    cancel: &dyn Fn() -> bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<u8>> {
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
        let frames: std::collections::BTreeSet<usize> =
            (0..t).step_by(stride).chain(std::iter::once(t - 1)).collect();
        for (k, &i) in frames.iter().enumerate() {
            progress(k, frames.len());
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
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gax::{CompactHeatmap, GaxConfig};
    use crate::io::image::Image;
    use crate::io::runfile::{ModelIdentity, StepScalars};

    #[test]
    fn gif_frames_report_progress_and_stop_when_cancelled() {
        let image = Image { width: 2, height: 2, data: vec![0.5; 12] };
        let mut run =
            RunRecord::new(GaxConfig::default(), image, "x".into(), 0, ModelIdentity::default());
        for k in 0..3_u8 {
            let co = f32::from(k);
            run.steps.push(StepScalars {
                co,
                loss: 0.0,
                similarity: 0.0,
                abs_max: 1.0,
                predicted: 0,
            });
            run.heatmaps.push(CompactHeatmap::from_f32(2, 2, &[co / 3.0; 12]));
        }
        let seen = std::cell::RefCell::new(Vec::new());
        let progress = |done, total| seen.borrow_mut().push((done, total));
        let bytes = gif_bytes(&run, Path::new("x.gif"), &|| false, &progress).expect("gif");
        assert!(bytes.starts_with(b"GIF89a"));
        assert_eq!(*seen.borrow(), [(0, 3), (1, 3), (2, 3)]);
        let stop = || seen.borrow().len() > 4;
        let r = gif_bytes(&run, Path::new("x.gif"), &stop, &progress);
        assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
        assert_eq!(seen.borrow().len(), 5, "stopped before the second frame");
    }
}

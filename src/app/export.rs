//! Saving runs and exporting arrays and curves from the explorer.

use std::path::Path;

use super::App;
use crate::ax::HeatmapSource;
use crate::error::{Error, Result};
use crate::io::runfile::RunRecord;

impl App {
    fn report(&mut self, what: &str, path: &Path, r: Result<()>) {
        match r {
            Ok(()) => self.state.info(format!("{what} written to {}", path.display())),
            Err(e) => self.state.error(e.to_string()),
        }
    }

    /// Writes `what` of the current GAX run to `path` with `write`, and reports it.
    fn write_run(&mut self, what: &str, path: &Path, write: impl FnOnce(&RunRecord) -> Result<()>) {
        let r = self.state.current_run().map_or_else(|| Err(Error::invalid("no GAX run")), write);
        self.report(what, path, r);
    }

    /// Saves the current GAX run file.
    pub fn save_run(&mut self, path: &Path) {
        self.write_run("run", path, |run| run.save(path));
    }

    /// Exports the current run's step stack `[T, 3, H, W]`.
    pub fn export_steps_npy(&mut self, path: &Path) {
        self.write_run("steps", path, |run| run.export_npy(path));
    }

    /// Exports the current run's CO curve as CSV.
    pub fn export_trace_csv(&mut self, path: &Path) {
        self.write_run("curve", path, |run| {
            crate::io::write_atomic(path, run.trace_csv().as_bytes())
        });
    }

    /// Exports the heatmap on show (the selected GAX step or a method's) as `[3, H, W]` .npy.
    pub fn export_heatmap_npy(&mut self, path: &Path) {
        let r = match self.shown_heatmap() {
            Some((data, h, w)) => crate::io::npy::write_f32(path, &[3, h, w], &data),
            None => Err(Error::invalid("no heatmap on show")),
        };
        self.report("heatmap", path, r);
    }

    /// The heatmap the view shows: `(values [3, H, W], H, W)`.
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
        let r = view.as_ref().and_then(|v| v.panel(panel)).map_or_else(
            || Err(Error::invalid(format!("panel '{panel}' is not on show"))),
            |p| write_png(path, &p.image),
        );
        self.report(&format!("panel '{panel}'"), path, r);
    }

    /// Asks the window for a screenshot of the whole view and saves it as PNG when it arrives.
    pub fn export_view_png(&mut self, ctx: &egui::Context, path: &Path) {
        let tx = self.screenshots.0.clone();
        let path = path.to_owned();
        let waker = ctx.clone();
        ctx.request_screenshot(move |img| {
            let r = write_png(&path, &img).map(|()| path.clone()).map_err(|e| e.to_string());
            let _ = tx.send(r);
            waker.request_repaint();
        });
        self.state.info("taking a screenshot...");
    }

    /// Reports screenshots that finished since the last frame.
    pub fn poll_screenshots(&mut self) {
        while let Ok(r) = self.screenshots.1.try_recv() {
            match r {
                Ok(p) => self.state.info(format!("view written to {}", p.display())),
                Err(e) => self.state.error(e),
            }
        }
    }

    /// Writes the current GAX run as an animated GIF of the channel-sum heatmap (scale ±3),
    /// at most 200 frames spread evenly over the run.
    pub fn export_gif(&mut self, path: &Path) {
        self.write_run("GIF", path, |run| write_gif(run, path));
    }
}

fn write_gif(run: &RunRecord, path: &Path) -> Result<()> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let (h, w) = (run.image.height, run.image.width);
    let n = h * w;
    let t = run.heatmaps.len();
    if t == 0 {
        return Err(Error::invalid("the run has no steps"));
    }
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
            let sum = crate::view_model::planes::channel_sum(&run.heatmaps[i].to_f32(), n);
            let frame = to_rgba(&crate::colormap::signed_plane(&sum, w, h, 3.0))?;
            enc.encode_frame(image::Frame::from_parts(
                frame,
                0,
                0,
                image::Delay::from_numer_denom_ms(50, 1),
            ))
            .map_err(err)?;
        }
    }
    crate::io::write_atomic(path, &buf)
}

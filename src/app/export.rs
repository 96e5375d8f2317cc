//! Saving runs and exporting arrays and curves from the explorer.

use std::path::Path;

use super::App;
use super::state::ViewSource;
use crate::error::Result;

impl App {
    fn report(&mut self, what: &str, path: &Path, r: Result<()>) {
        match r {
            Ok(()) => self.state.info(format!("{what} written to {}", path.display())),
            Err(e) => self.state.error(e.to_string()),
        }
    }

    /// Saves the current GAX run file.
    pub fn save_run(&mut self, path: &Path) {
        let r = self.state.current_run().map_or_else(|| Err(crate::Error::invalid("no GAX run to save")), |run| run.save(path));
        self.report("run", path, r);
    }

    /// Exports the current run's step stack `[T, 3, H, W]`.
    pub fn export_steps_npy(&mut self, path: &Path) {
        let r = self.state.current_run().map_or_else(|| Err(crate::Error::invalid("no GAX run")), |run| run.export_npy(path));
        self.report("steps", path, r);
    }

    /// Exports the current run's CO curve as CSV.
    pub fn export_trace_csv(&mut self, path: &Path) {
        let r = self.state.current_run().map_or_else(
            || Err(crate::Error::invalid("no GAX run")),
            |run| crate::io::write_atomic(path, run.trace_csv().as_bytes()),
        );
        self.report("curve", path, r);
    }

    /// Exports the heatmap on show (the selected GAX step or a method's) as `[3, H, W]` .npy.
    pub fn export_heatmap_npy(&mut self, path: &Path) {
        let r = match self.shown_heatmap() {
            Some((data, h, w)) => crate::io::npy::write_f32(path, &[3, h, w], &data),
            None => Err(crate::Error::invalid("no heatmap on show")),
        };
        self.report("heatmap", path, r);
    }

    /// The heatmap the view shows: `(values [3, H, W], H, W)`.
    pub fn shown_heatmap(&self) -> Option<(Vec<f32>, usize, usize)> {
        let e = self.state.current_entry()?;
        let (h, w) = (e.image.height, e.image.width);
        match self.state.view {
            ViewSource::Gax => {
                let run = e.run.as_ref()?;
                let idx = self.state.timeline.selected.min(run.heatmaps.len().checked_sub(1)?);
                Some((run.heatmaps[idx].to_f32(), h, w))
            }
            ViewSource::Method(m) => e.attributions.get(&m).map(|a| (a.heatmap.to_vec(), h, w)),
        }
    }
}

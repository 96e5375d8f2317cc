//! The dataset tab's intents: run AX over a folder, stop, and open one of its images in the
//! explorer with the heatmap of the row it came from.

use std::path::{Path, PathBuf};

use super::App;
use super::state::{ImageEntry, Pending};
use crate::attribution::Method;
use crate::ax::HeatmapSource;
use crate::worker::Command;

impl App {
    /// Runs AX over the folder typed in the dataset tab, writing the CSV [`results_path`] names
    /// beside it (a rerun with the same model and settings resumes it).
    pub fn run_dataset(&mut self, methods: Vec<Method>, batch: usize, gax_steps: usize) {
        let Some(model) = &self.state.model else {
            self.state.error("open a model first");
            return;
        };
        let dir = PathBuf::from(self.state.dataset.dir.trim());
        if !dir.is_dir() {
            self.state.error(format!("{} is not a folder", dir.display()));
            return;
        }
        let out = results_path(&dir, model, &methods, batch, gax_steps);
        self.state.dataset.progress = None;
        self.state.info(format!("dataset: scoring {} (rows in {})", dir.display(), out.display()));
        let job = self.submit(
            |job| Command::RunDataset { job, dir, out, methods, batch, gax_steps },
            Pending::Dataset,
        );
        self.state.dataset.job = job;
    }

    /// Cancels the dataset run (finished batches stay in the CSV; a rerun resumes).
    pub fn stop_dataset(&mut self) {
        if let Some(job) = self.state.dataset.job.take() {
            self.worker.cancel(job);
            self.state.pending.remove(&job);
            self.state.info("dataset run stopped; run again to resume");
        }
    }

    /// Opens a dataset image in the explorer and shows `source`'s heatmap on it.
    pub fn open_dataset_image(&mut self, rel: &str, source: HeatmapSource, label: i64) {
        let path = PathBuf::from(self.state.dataset.dir.trim()).join(rel);
        self.state.tab = super::state::Tab::Explorer;
        if let Some(i) = self.state.images.iter().position(|e| e.path == path) {
            self.state.images[i].label = Some(label);
            self.select_image(i);
            self.show_dataset_source(source);
            return;
        }
        self.state.dataset.open_after_load = Some((path.clone(), source, label));
        self.open_image(path);
    }

    /// Shows the current image's heatmap from `source`: runs that method, or starts GAX in the
    /// dataset tab's variant (once the prediction is in).
    pub(super) fn show_dataset_source(&mut self, source: HeatmapSource) {
        self.state.view = source;
        match source {
            HeatmapSource::Method(m) => {
                self.run_methods(vec![m], crate::attribution::Options::default())
            }
            HeatmapSource::Gax => {
                // Dataset GAX rows maximise the CO of the ground-truth class.
                if let Some(e) = self.state.current_entry_mut() {
                    e.target = e.label;
                }
                self.state.gax.variant = self.state.dataset.variant;
                if self.state.current_entry().and_then(ImageEntry::predicted).is_some() {
                    self.run_gax();
                } else {
                    self.state.auto_gax = true;
                }
            }
        }
    }
}

/// The CSV a GUI run over `dir` writes: `<folder>_ax_<arch>_<8 hex digits>.csv` beside the
/// folder, the digits a hash of the weights and the settings, so runs of different models or
/// settings never share a file and a rerun of the same one resumes.
pub fn results_path(
    dir: &Path,
    model: &crate::model::ModelInfo,
    methods: &[Method],
    batch: usize,
    gax_steps: usize,
) -> PathBuf {
    let name =
        dir.file_name().map_or_else(|| "data".to_owned(), |n| n.to_string_lossy().into_owned());
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let key = format!("{}|{}|{batch}|{gax_steps}", model.hash, names.join(","));
    let digest: String = crate::model::text_hash(&key).chars().take(8).collect();
    dir.with_file_name(format!("{name}_ax_{}_{digest}.csv", model.arch))
}

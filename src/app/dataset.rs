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
        let Some(multilabel) = self.state.model.as_ref().map(|m| m.multilabel) else {
            self.state.error("open a model first");
            return;
        };
        let dir = PathBuf::from(self.state.dataset.dir.trim());
        if !dir.is_dir() {
            self.state.error(format!("{} is not a folder", dir.display()));
            return;
        }
        let target = match self.state.dataset.pathology {
            _ if !multilabel => None,
            Some(t) => Some(t),
            None => {
                self.state.error("pick the pathology to score (PATHOLOGY/positive, /negative)");
                return;
            }
        };
        let Some(model) = &self.state.model else { return };
        let out = results_path(&dir, model, &methods, (batch, gax_steps), target);
        self.state.dataset.progress = None;
        self.state.dataset.scored = target;
        self.state.info(format!("dataset: scoring {} (rows in {})", dir.display(), out.display()));
        let job = self.submit(
            |job| Command::RunDataset { job, dir, out, methods, batch, gax_steps, target },
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
            self.mark_dataset_label(i, label);
            self.select_image(i);
            self.show_dataset_source(source);
            return;
        }
        self.state.dataset.open_after_load = Some((path.clone(), source, label));
        self.open_image(path);
    }

    /// Marks image `i` with a dataset row's label: its class, or for a per-pathology run (labels
    /// 0/1 for one pathology) that pathology as the output to explain.
    pub(super) fn mark_dataset_label(&mut self, i: usize, label: i64) {
        let scored = self.state.dataset.scored;
        if let Some(e) = self.state.images.get_mut(i) {
            match scored {
                Some(p) => e.target = Some(p),
                None => e.label = Some(label),
            }
        }
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
                // Dataset GAX rows maximise the CO of the ground-truth class (of a per-pathology
                // run: the pathology, already the target).
                let per_pathology = self.state.dataset.scored.is_some();
                if let Some(e) = self.state.current_entry_mut()
                    && !per_pathology
                {
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
/// settings never share a file and a rerun of the same one resumes. `target` is a multi-label
/// model's pathology of a per-pathology run.
pub fn results_path(
    dir: &Path,
    model: &crate::model::ModelInfo,
    methods: &[Method],
    (batch, gax_steps): (usize, usize),
    target: Option<i64>,
) -> PathBuf {
    let name =
        dir.file_name().map_or_else(|| "data".to_owned(), |n| n.to_string_lossy().into_owned());
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let mut key = format!("{}|{}|{batch}|{gax_steps}", model.hash, names.join(","));
    if let Some(t) = target {
        key.push_str(&format!("|pathology {t}"));
    }
    let digest: String = crate::model::text_hash(&key).chars().take(8).collect();
    dir.with_file_name(format!("{name}_ax_{}_{digest}.csv", model.arch))
}

//! Applying worker events to the state, and turning user intents into worker commands.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::App;
use super::state::{AttributionResult, ImageEntry, Pending};
use crate::attribution::{Method, Options};
use crate::ax::HeatmapSource;
use crate::io::runfile::{ModelIdentity, RunRecord};
use crate::model::{ModelInfo, ModelSource};
use crate::worker::{Command, Event, JobId};

impl App {
    fn submit(&mut self, make: impl FnOnce(JobId) -> Command, pending: Pending) -> Option<JobId> {
        let job = self.worker.next_job();
        match self.worker.send(make(job)) {
            Ok(()) => {
                self.state.pending.insert(job, pending);
                Some(job)
            }
            Err(e) => {
                self.state.error(e.to_string());
                None
            }
        }
    }

    /// Loads a model on the worker.
    pub fn open_model(&mut self, source: ModelSource) {
        let device = self.state.device_choice;
        self.state.info("loading model...");
        self.submit(
            |job| Command::LoadModel { job, source: source.clone(), device },
            Pending::Model(source.clone()),
        );
    }

    /// Decodes an image on the worker, adds it to the list and shows it.
    pub fn open_image(&mut self, path: PathBuf) {
        self.load_image(path, true);
    }

    /// Decodes an image on the worker and adds it to the list; `show` makes it current (else
    /// it becomes current only when no image is).
    pub fn load_image(&mut self, path: PathBuf, show: bool) {
        self.state.info(format!("opening {}...", path.display()));
        self.submit(|job| Command::LoadImage { job, path, size: None }, Pending::Image(show));
    }

    /// Opens a GAX run file for replay (no model or GPU needed).
    pub fn open_run(&mut self, path: PathBuf) {
        match RunRecord::load(&path) {
            Ok(run) => {
                let id = self.state.fresh_id();
                let mut entry = ImageEntry::new(path.clone(), Arc::new(run.image.clone()), id);
                entry.label = Some(run.label);
                entry.run = Some(run);
                entry.run_id = self.state.fresh_id();
                self.state.images.push(entry);
                self.state.current = Some(self.state.images.len() - 1);
                self.state.timeline.selected = 0;
                self.state.timeline.follow = false;
                self.state.view = HeatmapSource::Gax;
                self.state.remember(path.clone());
                self.state.info(format!("replaying {}", path.display()));
            }
            Err(e) => self.state.error(e.to_string()),
        }
    }

    /// Whether image `i` is being decoded again at the model's input size.
    fn reloading(&self, i: usize) -> bool {
        self.state.pending.values().any(|p| matches!(p, Pending::Reload(j) if *j == i))
    }

    fn input_size(&self) -> [usize; 2] {
        self.state.model.as_ref().map_or([256, 256], ModelInfo::image_size)
    }

    /// Makes image `index` current and asks for its prediction if missing.
    pub fn select_image(&mut self, index: usize) {
        if index >= self.state.images.len() {
            return;
        }
        self.state.current = Some(index);
        self.state.timeline.selected =
            self.state.images[index].run.as_ref().map_or(0, |r| r.steps.len().saturating_sub(1));
        self.predict_current();
    }

    fn predict_current(&mut self) {
        let Some(i) = self.state.current else { return };
        if self.state.model.is_none()
            || self.state.images[i].prediction.is_some()
            || self.reloading(i)
        {
            return;
        }
        let image = Arc::clone(&self.state.images[i].image);
        self.submit(|job| Command::Predict { job, image, top_k: 5 }, Pending::Predict(i));
    }

    /// Runs the chosen methods (and AX) on the current image.
    pub fn run_methods(&mut self, methods: Vec<Method>, options: Options) {
        let Some(i) = self.state.current else {
            self.state.error("open an image first");
            return;
        };
        if self.state.model.is_none() {
            self.state.error("open a model first");
            return;
        }
        if self.reloading(i) {
            self.state.error(
                "the image is being decoded again at the model's input size; try again in a moment",
            );
            return;
        }
        let entry = &self.state.images[i];
        let image = Arc::clone(&entry.image);
        let (label, target) = (entry.label, entry.target);
        self.state.info(format!("running {} method(s)...", methods.len()));
        self.submit(
            |job| Command::Attribute { job, image, methods, target, label, options },
            Pending::Attribute(i),
        );
    }

    /// Starts GAX on the current image with the current settings.
    pub fn run_gax(&mut self) {
        let Some(i) = self.state.current else {
            self.state.error("open an image first");
            return;
        };
        let Some(model) = self.state.model.clone() else {
            self.state.error("open a model first");
            return;
        };
        if let Err(e) = self.state.gax.validate() {
            self.state.error(e.to_string());
            return;
        }
        self.stop();
        let entry = &self.state.images[i];
        let Some(predicted) = entry.predicted() else {
            self.state.error("the prediction is not ready yet; try again in a moment");
            return;
        };
        let label = entry.target.unwrap_or(predicted);
        let mismatch = entry.label.filter(|&gt| gt != label);
        let entry = &self.state.images[i];
        let identity = ModelIdentity::from(&model);
        let image = Arc::clone(&entry.image);
        let name = entry.name();
        let config = self.state.gax.clone();
        let record = RunRecord::new(config.clone(), (*image).clone(), name, label, identity);
        self.state.images[i].run = Some(record);
        self.state.images[i].run_id = self.state.fresh_id();
        self.state.timeline.selected = 0;
        self.state.timeline.follow = true;
        self.state.view = HeatmapSource::Gax;
        let job = self.submit(
            |job| Command::StartGax { job, images: vec![image], labels: vec![label], config },
            Pending::Gax(i),
        );
        self.state.gax_job = job;
        if job.is_some() {
            match mismatch {
                Some(gt) => {
                    let text = format!(
                        "GAX running on the predicted class {} (the label is {})",
                        self.state.class_name(label),
                        self.state.class_name(gt)
                    );
                    self.state.info(text);
                }
                None => self.state.info("GAX running..."),
            }
        }
    }

    /// Stops the running GAX job (and anything queued before it).
    pub fn stop(&mut self) {
        if let Some(job) = self.state.gax_job.take() {
            self.worker.cancel(job);
            if let Some(Pending::Gax(i)) = self.state.pending.remove(&job)
                && let Some(run) = self.state.images.get_mut(i).and_then(|e| e.run.as_mut())
            {
                run.stop = Some(crate::gax::StopReason::Cancelled);
            }
            self.state.info("stopped");
        }
    }

    /// Drains worker events into the state for at most `budget`; returns whether any remain.
    pub fn drain_events(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while let Some(ev) = self.worker.try_recv() {
            self.apply(ev);
            if start.elapsed() > budget {
                return true;
            }
        }
        false
    }

    /// Applies one worker event.
    pub fn apply(&mut self, ev: Event) {
        let job = ev.job();
        let Some(pending) = self.state.pending.get(&job).cloned() else { return };
        match ev {
            Event::ModelLoaded { info, device, .. } => {
                self.state.pending.remove(&job);
                if let Some(p) = match &pending {
                    Pending::Model(source) => source.path(),
                    _ => None,
                } {
                    self.state.remember(p.to_owned());
                }
                self.state
                    .info(format!("model {} ({} classes) on {device}", info.arch, info.classes));
                self.state.device = device;
                self.state.model = Some(info);
                for e in &mut self.state.images {
                    e.prediction = None;
                    e.attributions.clear();
                }
                // Images decoded for another input size are decoded again from their files, so
                // the model sees exactly what the command line would give it.
                let size = self.input_size();
                let stale: Vec<(usize, PathBuf)> = self
                    .state
                    .images
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        e.run.is_none() && (e.image.height, e.image.width) != (size[0], size[1])
                    })
                    .map(|(i, e)| (i, e.path.clone()))
                    .collect();
                for (i, path) in stale {
                    self.submit(
                        |job| Command::LoadImage { job, path, size: Some(size) },
                        Pending::Reload(i),
                    );
                }
                self.predict_current();
            }
            Event::ImageLoaded { path, image, .. } if matches!(pending, Pending::Reload(_)) => {
                self.state.pending.remove(&job);
                let Pending::Reload(i) = pending else { return };
                let id = self.state.fresh_id();
                if let Some(e) =
                    self.state.images.get_mut(i).filter(|e| e.path == path && e.run.is_none())
                {
                    e.image = image;
                    e.image_id = id;
                    e.prediction = None;
                    e.attributions.clear();
                    if self.state.current == Some(i) {
                        self.predict_current();
                    }
                }
            }
            Event::ImageLoaded { path, image, .. } => {
                self.state.pending.remove(&job);
                self.state.remember(path.clone());
                let id = self.state.fresh_id();
                self.state.images.push(ImageEntry::new(path, image, id));
                let idx = self.state.images.len() - 1;
                self.state.info(format!("opened {}", self.state.images[idx].name()));
                if matches!(pending, Pending::Image(true)) || self.state.current.is_none() {
                    self.select_image(idx);
                }
                if let Some((p, m, label)) = self.state.dataset.open_after_load.take() {
                    if p == self.state.images[idx].path {
                        self.state.images[idx].label = Some(label);
                        self.select_image(idx);
                        self.show_dataset_source(m);
                    } else {
                        self.state.dataset.open_after_load = Some((p, m, label));
                    }
                }
            }
            Event::Prediction { top, .. } => {
                self.state.pending.remove(&job);
                if let Some(e) = self.entry_for(&pending) {
                    e.prediction = Some(top);
                }
                let for_current =
                    matches!(pending, Pending::Predict(i) if Some(i) == self.state.current);
                if for_current && std::mem::take(&mut self.state.auto_gax) {
                    self.run_gax();
                }
            }
            Event::Attribution { method, heatmap, raw_abs_max, co_sum, co_mult, zero, .. } => {
                let id = self.state.fresh_id();
                if let Some(e) = self.entry_for(&pending) {
                    e.attributions.insert(
                        method,
                        AttributionResult {
                            id,
                            heatmap: Arc::new(heatmap),
                            raw_abs_max,
                            co_sum,
                            co_mult,
                            zero,
                        },
                    );
                }
                self.state.info(format!(
                    "{method}: CO sum {co_sum:.3}, mult {co_mult:.3}{}",
                    if zero { " (all-zero attribution)" } else { "" }
                ));
            }
            Event::GaxStep { step, .. } => {
                let follow = self.state.timeline.follow;
                let mut newest = None;
                if let Some(run) = self.entry_for(&pending).and_then(|e| e.run.as_mut()) {
                    run.push(*step);
                    newest = Some(run.steps.len() - 1);
                }
                if let (true, Some(n)) = (follow, newest) {
                    self.state.timeline.selected = n;
                }
            }
            Event::GaxFinished { outcome, .. } => {
                self.state.pending.remove(&job);
                if self.state.gax_job == Some(job) {
                    self.state.gax_job = None;
                }
                if let (Some(run), Some((reason, last))) =
                    (self.entry_for(&pending).and_then(|e| e.run.as_mut()), outcome.first())
                {
                    run.stop = Some(*reason);
                    let co = run.steps.last().map_or(0.0, |s| s.co);
                    self.state
                        .info(format!("GAX: {} at step {last}, CO {co:.3}", reason.describe()));
                }
            }
            Event::DatasetProgress { progress, .. } => {
                self.state.dataset.progress = Some(progress);
            }
            Event::DatasetDone { rows, summary, .. } => {
                self.state.pending.remove(&job);
                self.state.dataset.job = None;
                self.state.info(format!(
                    "dataset: {} images, accuracy {:.3}",
                    summary.images, summary.accuracy
                ));
                self.state.dataset.rows = rows;
                self.state.dataset.revision += 1;
                self.state.dataset.summary = Some(summary);
            }
            Event::Finished { .. } => {
                self.state.pending.remove(&job);
            }
            Event::Failed { message, .. } => {
                self.state.pending.remove(&job);
                if self.state.gax_job == Some(job) {
                    self.state.gax_job = None;
                }
                if self.state.dataset.job == Some(job) {
                    self.state.dataset.job = None;
                }
                self.state.error(message);
            }
        }
    }

    /// Waits (up to `timeout`) until no job is pending, applying events as they come. For tests
    /// and the command line; the UI never blocks.
    pub fn wait_idle(&mut self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while !self.state.pending.is_empty() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if let Some(ev) = self.worker.recv_timeout(left.min(Duration::from_millis(50))) {
                self.apply(ev);
            }
        }
        true
    }
}

impl App {
    /// The image entry a pending job belongs to.
    fn entry_for(&mut self, p: &Pending) -> Option<&mut ImageEntry> {
        match p {
            Pending::Predict(i) | Pending::Attribute(i) | Pending::Gax(i) => {
                self.state.images.get_mut(*i)
            }
            Pending::Model(_) | Pending::Image(_) | Pending::Reload(_) | Pending::Dataset => None,
        }
    }
}

impl App {
    /// Runs AX over the folder typed in the dataset tab, writing `<folder>_ax.csv` beside it.
    pub fn run_dataset(&mut self, methods: Vec<Method>, batch: usize, gax_steps: usize) {
        if self.state.model.is_none() {
            self.state.error("open a model first");
            return;
        }
        let dir = PathBuf::from(self.state.dataset.dir.trim());
        if !dir.is_dir() {
            self.state.error(format!("{} is not a folder", dir.display()));
            return;
        }
        let name =
            dir.file_name().map_or_else(|| "data".to_owned(), |n| n.to_string_lossy().into_owned());
        let out = dir.with_file_name(format!("{name}_ax.csv"));
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
    fn show_dataset_source(&mut self, source: HeatmapSource) {
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

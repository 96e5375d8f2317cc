//! User intents turned into worker commands: open a model, an image or a run, select an
//! image, run methods or GAX, stop. Each command is recorded as pending so that its events land
//! in the right place (see `logic.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use super::App;
use super::background::Done;
use super::state::{ImageEntry, Pending};
use crate::attribution::{Method, Options};
use crate::ax::HeatmapSource;
use crate::io::runfile::{ModelIdentity, RunRecord};
use crate::model::{ModelInfo, ModelSource};
use crate::worker::{Command, JobId};

impl App {
    pub(super) fn submit(
        &mut self,
        make: impl FnOnce(JobId) -> Command,
        pending: Pending,
    ) -> Option<JobId> {
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
        let options = crate::input::LoadOptions::default();
        self.submit(
            |job| Command::LoadImage { job, path, size: None, options },
            Pending::Image(show),
        );
    }

    /// Opens a GAX run file for replay (no model or GPU needed). The file is read on a thread
    /// of its own; the run joins the image list when it arrives (made current unless a later
    /// run file was asked for since).
    pub fn open_run(&mut self, path: PathBuf) {
        self.state.info(format!("opening {}...", path.display()));
        let file = path.clone();
        let id = self.tasks.spawn("open-run", move |cancel| {
            let result = if cancel.cancelled() {
                Err(crate::error::Error::Cancelled)
            } else {
                RunRecord::load(&file)
            };
            Done::Run { path: file, result: result.map(Box::new).map_err(|e| e.to_string()) }
        });
        self.newest_run_open = id;
    }

    /// A run file read by task `id`: listed and, when it is the newest asked for, shown.
    pub(super) fn on_run_opened(
        &mut self,
        id: u64,
        path: PathBuf,
        result: Result<Box<RunRecord>, String>,
        cancelled: bool,
    ) {
        let run = match result {
            _ if cancelled => {
                self.state.info(format!("opening {} cancelled", path.display()));
                return;
            }
            Ok(run) => *run,
            Err(e) => {
                self.state.error(e);
                return;
            }
        };
        let image_id = self.state.fresh_id();
        let mut entry = ImageEntry::new(path.clone(), Arc::new(run.image.clone()), image_id);
        entry.label = Some(run.label);
        entry.run = Some(Arc::new(run));
        entry.run_id = self.state.fresh_id();
        self.state.images.push(entry);
        self.state.remember(path.clone());
        if id == self.newest_run_open || self.state.current.is_none() {
            self.state.current = Some(self.state.images.len() - 1);
            self.state.timeline.selected = 0;
            self.state.timeline.follow = false;
            self.state.view = HeatmapSource::Gax;
        }
        self.state.info(format!("replaying {}", path.display()));
    }

    /// Whether image `i` is being decoded again at the model's input size.
    pub fn reloading(&self, i: usize) -> bool {
        self.state.pending.values().any(|p| matches!(p, Pending::Reload(j) if *j == i))
    }

    pub(super) fn input_size(&self) -> [usize; 2] {
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

    pub(super) fn predict_current(&mut self) {
        let Some(i) = self.state.current else { return };
        if self.state.model.is_none()
            || self.state.images[i].prediction.is_some()
            || self.reloading(i)
        {
            return;
        }
        let image = Arc::clone(&self.state.images[i].image);
        // A multi-label model's pathologies are all listed (the picker offers every one).
        let top_k = match &self.state.model {
            Some(m) if m.multilabel => crate::convert::to_usize(m.classes),
            _ => 5,
        };
        self.submit(|job| Command::Predict { job, image, top_k }, Pending::Predict(i));
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
        let (mut label, target) = (entry.label, entry.target);
        if self.state.model.as_ref().is_some_and(|m| m.multilabel) {
            // The picked pathology (default: the highest score) is explained and CO weighs it
            // alone; a multi-label model has no single ground-truth class.
            label = target;
        }
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
        // For a multi-label model `label` is the picked pathology, not a rival of a ground truth.
        let mismatch = entry.label.filter(|&gt| gt != label && !model.multilabel);
        let entry = &self.state.images[i];
        let identity = ModelIdentity::from(&model);
        let image = Arc::clone(&entry.image);
        let name = entry.name();
        let config = self.state.gax.clone();
        let record = RunRecord::new(config.clone(), (*image).clone(), name, label, identity);
        self.state.images[i].run = Some(Arc::new(record));
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
                && let Some(run) =
                    self.state.images.get_mut(i).and_then(|e| e.run.as_mut().map(Arc::make_mut))
            {
                run.stop = Some(crate::gax::StopReason::Cancelled);
            }
            self.state.info("stopped");
        }
    }
}

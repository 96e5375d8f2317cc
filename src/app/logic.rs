//! Applying worker events to the state: each event finds its pending job and lands on the
//! image, run or tab it belongs to.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::App;
use super::dicom::DicomEntry;
use super::state::{AttributionResult, ImageEntry, Pending};
use crate::input::LoadOptions;
use crate::io::dicom::DicomSource;
use crate::io::image::Image;
use crate::worker::{Command, Event, Recovery};

/// What a loaded image brings: the model input, the window and frame it was made with, and
/// for a grayscale DICOM file the frame's data.
struct Loaded {
    image: Arc<Image>,
    options: LoadOptions,
    dicom: Option<Arc<DicomSource>>,
}

impl App {
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
                if let Pending::Model(source) = &pending
                    && let Some(p) = source.path()
                {
                    self.state.remember(p.to_owned());
                }
                self.on_model_loaded(info, device);
            }
            Event::ImageLoaded { path, image, options, dicom, .. } => {
                self.state.pending.remove(&job);
                let loaded = Loaded { image, options, dicom };
                match pending {
                    Pending::Reload(i) => self.on_image_reloaded(i, &path, loaded),
                    _ => {
                        self.on_image_loaded(path, loaded, matches!(pending, Pending::Image(true)))
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
            Event::Attribution {
                method,
                target,
                heatmap,
                raw_abs_max,
                co_sum,
                co_mult,
                zero,
                ..
            } => {
                let id = self.state.fresh_id();
                if let Some(e) = self.entry_for(&pending) {
                    e.attributions.insert(
                        method,
                        AttributionResult {
                            id,
                            target,
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
                if let Some(run) =
                    self.entry_for(&pending).and_then(|e| e.run.as_mut().map(Arc::make_mut))
                {
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
                if let (Some(run), Some((reason, last))) = (
                    self.entry_for(&pending).and_then(|e| e.run.as_mut().map(Arc::make_mut)),
                    outcome.first(),
                ) {
                    run.stop = Some(*reason);
                    let co = run.steps.last().map_or(0.0, |s| s.co);
                    let message = format!("GAX: {} at step {last}, CO {co:.3}", reason.describe());
                    if *reason == crate::gax::StopReason::NonFinite {
                        self.state.error(message);
                    } else {
                        self.state.info(message);
                    }
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
            Event::DemoProgress { stage, .. } => self.on_demo_progress(stage),
            Event::DemoModelDone { result, .. } => self.on_demo_result(*result),
            Event::CaseScored { index, result, .. } => {
                if self.state.review.job == Some(job)
                    && let Some(c) = self.state.review.cases.get_mut(index)
                {
                    c.scores = Some(result);
                    self.state.review.scored += 1;
                }
            }
            Event::OutOfMemory { recovery, message, .. } => match recovery {
                Recovery::Split { .. } => self.state.info(message),
                Recovery::Cpu { device } => {
                    self.state.device = device;
                    // The job sends its results again from the start.
                    if let (Pending::Gax(_), Some(run)) = (
                        &pending,
                        self.entry_for(&pending).and_then(|e| e.run.as_mut().map(Arc::make_mut)),
                    ) {
                        run.restart();
                        self.state.timeline.selected = 0;
                    }
                    if self.state.review.job == Some(job) {
                        self.state.review.scored = 0;
                    }
                    self.state.warn(message);
                }
            },
            Event::Finished { .. } => {
                self.state.pending.remove(&job);
                self.on_demo_end(job);
                if self.state.review.job == Some(job) {
                    self.state.review.job = None;
                }
            }
            Event::Failed { message, .. } => {
                self.state.pending.remove(&job);
                if self.state.gax_job == Some(job) {
                    self.state.gax_job = None;
                }
                if self.state.dataset.job == Some(job) {
                    self.state.dataset.job = None;
                }
                if self.state.review.job == Some(job) {
                    self.state.review.job = None;
                }
                self.on_demo_end(job);
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
    fn on_model_loaded(&mut self, info: crate::model::ModelInfo, device: String) {
        self.state.info(format!("model {} ({} classes) on {device}", info.arch, info.classes));
        self.state.device = device;
        self.state.model = Some(info);
        for e in &mut self.state.images {
            e.prediction = None;
            e.attributions.clear();
        }
        // Images decoded for another input size are decoded again from their files, so the
        // model sees exactly what the command line would give it.
        let size = self.input_size();
        let stale: Vec<(usize, PathBuf, LoadOptions)> = self
            .state
            .images
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.run.is_none() && (e.image.height, e.image.width) != (size[0], size[1])
            })
            .map(|(i, e)| (i, e.path.clone(), e.load_options()))
            .collect();
        for (i, path, options) in stale {
            self.submit(
                |job| Command::LoadImage { job, path, size: Some(size), options },
                Pending::Reload(i),
            );
        }
        self.predict_current();
        self.review_score();
    }

    /// Image `i` decoded again at the model's input size or under a new window or frame
    /// (unless it changed meanwhile, or a newer window or frame was asked for since).
    fn on_image_reloaded(&mut self, i: usize, path: &std::path::Path, loaded: Loaded) {
        let id = self.state.fresh_id();
        let source_id = self.state.fresh_id();
        if let Some(e) = self
            .state
            .images
            .get_mut(i)
            .filter(|e| e.path == path && e.run.is_none() && e.load_options() == loaded.options)
        {
            if let (Some(d), Some(s)) = (e.dicom.as_mut(), loaded.dicom)
                && !Arc::ptr_eq(&d.source, &s)
            {
                d.source = s;
                d.source_id = source_id;
            }
            e.image = loaded.image;
            e.image_id = id;
            e.prediction = None;
            e.attributions.clear();
            if self.state.current == Some(i) {
                self.predict_current();
            }
        }
    }

    /// A newly opened image: listed, made current when `show` (or when none is), and shown with
    /// a dataset row's heatmap when it was opened from the dataset tab.
    fn on_image_loaded(&mut self, path: PathBuf, loaded: Loaded, show: bool) {
        self.state.remember(path.clone());
        let id = self.state.fresh_id();
        let mut entry = ImageEntry::new(path, loaded.image, id);
        if let Some(s) = loaded.dicom {
            entry.dicom = Some(DicomEntry::new(s, self.state.fresh_id(), loaded.options));
        }
        self.state.images.push(entry);
        let idx = self.state.images.len() - 1;
        self.state.info(format!("opened {}", self.state.images[idx].name()));
        if show || self.state.current.is_none() {
            self.select_image(idx);
        }
        if let Some((p, m, label)) = self.state.dataset.open_after_load.take() {
            if p == self.state.images[idx].path {
                self.mark_dataset_label(idx, label);
                self.select_image(idx);
                self.show_dataset_source(m);
            } else {
                self.state.dataset.open_after_load = Some((p, m, label));
            }
        }
    }

    /// The image entry a pending job belongs to.
    fn entry_for(&mut self, p: &Pending) -> Option<&mut ImageEntry> {
        match p {
            Pending::Predict(i) | Pending::Attribute(i) | Pending::Gax(i) => {
                self.state.images.get_mut(*i)
            }
            Pending::Model(_)
            | Pending::Image(_)
            | Pending::Reload(_)
            | Pending::Dataset
            | Pending::Demo
            | Pending::Review => None,
        }
    }
}

//! The typed messages between the UI thread and the worker thread. Only plain data crosses:
//! images and heatmaps as `Vec<f32>`/f16, never tensors.

use std::path::PathBuf;
use std::sync::Arc;

use crate::attribution::{Method, Options};
use crate::gax::{GaxConfig, GaxStep, StopReason};
use crate::io::image::Image;
use crate::model::{ModelInfo, ModelSource};
use crate::runtime::DeviceChoice;

/// Identifies one request; every event names the job it answers, so the UI can drop stale ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct JobId(pub u64);

/// A class with its raw logit and softmax probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScore {
    /// Class index.
    pub class: i64,
    /// Raw logit.
    pub logit: f32,
    /// Probability: softmax, or sigmoid for a multi-label model.
    pub prob: f32,
}

/// UI → worker.
#[derive(Debug, Clone)]
pub enum Command {
    /// Sent when the user opens a model; answered by [`Event::ModelLoaded`] or [`Event::Failed`].
    LoadModel {
        /// The job.
        job: JobId,
        /// Where the model comes from.
        source: ModelSource,
        /// Which device to put it on.
        device: DeviceChoice,
    },
    /// Sent when the user opens an image; answered by [`Event::ImageLoaded`] or [`Event::Failed`].
    LoadImage {
        /// The job.
        job: JobId,
        /// The file.
        path: PathBuf,
        /// `[height, width]` to resize to; `None`: the loaded model's input size (256×256 while
        /// no model is loaded), decided on the worker so commands queued behind a model load
        /// get that model's size.
        size: Option<[usize; 2]>,
        /// Window and frame for DICOM files (SPEC §9); ignored by other formats (frame 0).
        options: crate::input::LoadOptions,
    },
    /// Sent when an image becomes current; answered by [`Event::Prediction`].
    Predict {
        /// The job.
        job: JobId,
        /// The image at model resolution.
        image: Arc<Image>,
        /// How many top classes to return.
        top_k: usize,
    },
    /// Sent by "Run methods"; answered by one [`Event::Attribution`] per method, then
    /// [`Event::Finished`].
    Attribute {
        /// The job.
        job: JobId,
        /// The image.
        image: Arc<Image>,
        /// Methods to run, in order.
        methods: Vec<Method>,
        /// Attribution target (None: predicted class).
        target: Option<i64>,
        /// CO label (None: predicted class).
        label: Option<i64>,
        /// Method options.
        options: Options,
    },
    /// Sent by "Run GAX"; answered by a stream of [`Event::GaxStep`], then [`Event::GaxFinished`].
    StartGax {
        /// The job.
        job: JobId,
        /// Images optimised together.
        images: Vec<Arc<Image>>,
        /// One label per image.
        labels: Vec<i64>,
        /// Hyper-parameters.
        config: GaxConfig,
    },
    /// Sent by the dataset tab's Run; answered by [`Event::DatasetProgress`] after every batch,
    /// then [`Event::DatasetDone`].
    RunDataset {
        /// The job.
        job: JobId,
        /// The ImageFolder tree.
        dir: PathBuf,
        /// The CSV to write (resumed when it exists).
        out: PathBuf,
        /// Methods to score.
        methods: Vec<Method>,
        /// Images per batch.
        batch: usize,
        /// GAX steps per image and variant (0: no GAX rows).
        gax_steps: usize,
        /// A multi-label model's pathology: the per-pathology layout, labels 0/1 for it.
        target: Option<i64>,
    },
    /// Sent by the dataset tab's "Demo data": writes seeded phantoms into a fresh folder under
    /// `root` (or reuses the demo folder an earlier run wrote there), then scores it with each
    /// of `models` in turn, loaded on the worker beside (not instead of) the user's model.
    /// Answered by [`Event::DemoProgress`], one [`Event::DemoModelDone`] per model, then
    /// [`Event::Finished`].
    RunDemo {
        /// The job.
        job: JobId,
        /// What to generate and score.
        spec: super::demo::DemoSpec,
    },
    /// Sent when a review folder opens (or the model or CO method changes); answered by one
    /// [`Event::CaseScored`] per file, then [`Event::Finished`].
    ScoreFiles {
        /// The job.
        job: JobId,
        /// Case index and file, in the order to score them.
        files: Vec<(usize, PathBuf)>,
        /// The method whose CO score (sum variant, predicted class) is computed too.
        co_method: Option<Method>,
    },
    /// Sent by "Stop": cancels every job with an id up to and including this one. The handle
    /// also sets the shared cancel flag, which running loops check every step.
    Cancel {
        /// The newest job to cancel.
        job: JobId,
    },
    /// Sent when the handle is dropped: the thread ends.
    Shutdown,
}

impl Command {
    /// The job this command starts or cancels ([`JobId`] 0 for [`Command::Shutdown`]).
    pub fn job(&self) -> JobId {
        match self {
            Self::LoadModel { job, .. }
            | Self::LoadImage { job, .. }
            | Self::Predict { job, .. }
            | Self::Attribute { job, .. }
            | Self::StartGax { job, .. }
            | Self::RunDataset { job, .. }
            | Self::RunDemo { job, .. }
            | Self::ScoreFiles { job, .. }
            | Self::Cancel { job } => *job,
            Self::Shutdown => JobId(0),
        }
    }

    /// Whether this command computes on the model, so that running out of memory can be got
    /// past by splitting its batches or restarting it on the CPU.
    pub fn computes(&self) -> bool {
        matches!(
            self,
            Self::Predict { .. }
                | Self::Attribute { .. }
                | Self::StartGax { .. }
                | Self::RunDataset { .. }
                | Self::ScoreFiles { .. }
        )
    }
}

/// How a job got past running out of (GPU) memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// A dataset batch was split in two and each half retried; the job goes on where it was.
    Split {
        /// Splits so far in this run.
        splits: usize,
    },
    /// The model moved to the CPU (and stays there) and the job restarted from its beginning
    /// there, sending its results again: a GAX run's steps so far are replaced, a dataset run
    /// resumes from the rows already in its CSV, a review's cases are scored again.
    Cpu {
        /// The device now, in words.
        device: String,
    },
}

/// Worker → UI.
#[derive(Debug)]
pub enum Event {
    /// A model is ready.
    ModelLoaded {
        /// The job.
        job: JobId,
        /// What it is.
        info: ModelInfo,
        /// The device, in words.
        device: String,
    },
    /// An image was decoded and resized.
    ImageLoaded {
        /// The job.
        job: JobId,
        /// Its file.
        path: PathBuf,
        /// The pixels.
        image: Arc<Image>,
        /// The window and frame it was made with (as asked).
        options: crate::input::LoadOptions,
        /// For a grayscale DICOM file: the frame's modality values, presets and facts, so the
        /// UI can window the full-resolution image without the worker (the same `Arc` while
        /// the file and frame stay the same).
        dicom: Option<Arc<crate::io::dicom::DicomSource>>,
    },
    /// The model's top classes on an image.
    Prediction {
        /// The job.
        job: JobId,
        /// Top classes, best first.
        top: Vec<ClassScore>,
    },
    /// One method's heatmap and CO scores.
    Attribution {
        /// The job.
        job: JobId,
        /// The method.
        method: Method,
        /// The output the heatmap explains (the chosen target, else the predicted class).
        target: i64,
        /// The AX heatmap h = a / max|a|, `[C, H, W]` (C = the model's input channels, 3 or 1).
        heatmap: Vec<f32>,
        /// max|a| before normalisation.
        raw_abs_max: f32,
        /// CO with x + h.
        co_sum: f32,
        /// CO with x ⊙ h.
        co_mult: f32,
        /// The attribution was all zero.
        zero: bool,
    },
    /// One GAX step of one image.
    GaxStep {
        /// The job.
        job: JobId,
        /// The step.
        step: Box<GaxStep>,
    },
    /// A GAX job ended.
    GaxFinished {
        /// The job.
        job: JobId,
        /// Per image: why it stopped and its last step.
        outcome: Vec<(StopReason, usize)>,
    },
    /// A dataset batch finished.
    DatasetProgress {
        /// The job.
        job: JobId,
        /// Images done and total, rate and time left.
        progress: crate::dataset::Progress,
    },
    /// A dataset run finished: every row of its CSV and the summary.
    DatasetDone {
        /// The job.
        job: JobId,
        /// The rows.
        rows: Vec<crate::dataset::Row>,
        /// Statistics.
        summary: crate::dataset::Summary,
    },
    /// Where the demo is: generating phantoms, or scoring with one of its models.
    DemoProgress {
        /// The job.
        job: JobId,
        /// The stage.
        stage: super::demo::DemoStage,
    },
    /// One demo model has scored the whole demo folder.
    DemoModelDone {
        /// The job.
        job: JobId,
        /// Which model (its index in [`super::demo::DemoSpec::models`]) and its statistics.
        result: Box<super::demo::DemoResult>,
    },
    /// One review case scored (or why it could not be).
    CaseScored {
        /// The job.
        job: JobId,
        /// The case index the command gave.
        index: usize,
        /// Its scores, or the error.
        result: Result<crate::review::Scores, String>,
    },
    /// A job ran out of memory and goes on (see [`Recovery`]); the message is for the status
    /// line.
    OutOfMemory {
        /// The job.
        job: JobId,
        /// What was done about it.
        recovery: Recovery,
        /// What happened and what was done, in words.
        message: String,
    },
    /// A job other than GAX ended.
    Finished {
        /// The job.
        job: JobId,
    },
    /// A job failed; the message is for the status line.
    Failed {
        /// The job.
        job: JobId,
        /// What went wrong.
        message: String,
    },
}

impl Event {
    /// The job this event answers.
    pub fn job(&self) -> JobId {
        match self {
            Self::ModelLoaded { job, .. }
            | Self::ImageLoaded { job, .. }
            | Self::Prediction { job, .. }
            | Self::Attribution { job, .. }
            | Self::GaxStep { job, .. }
            | Self::GaxFinished { job, .. }
            | Self::DatasetProgress { job, .. }
            | Self::DatasetDone { job, .. }
            | Self::DemoProgress { job, .. }
            | Self::DemoModelDone { job, .. }
            | Self::CaseScored { job, .. }
            | Self::OutOfMemory { job, .. }
            | Self::Finished { job }
            | Self::Failed { job, .. } => *job,
        }
    }
}

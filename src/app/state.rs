//! The explorer's plain-data state: no egui widgets and no tensors, testable without a UI.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::attribution::Method;
use crate::ax::HeatmapSource;
use crate::gax::GaxConfig;
use crate::io::image::Image;
use crate::io::runfile::RunRecord;
use crate::model::{ModelInfo, ModelSource};
use crate::runtime::DeviceChoice;
use crate::worker::{ClassScore, JobId};

pub use super::view_state::{CompareScale, ScaleMode, ViewLayout, ViewPanels, ZoomPan};

/// One method's result on one image.
#[derive(Debug, Clone)]
pub struct AttributionResult {
    /// Identifies this result among everything the app has shown (see [`AppState::fresh_id`]).
    pub id: u64,
    /// The output the heatmap explains (a class, or a multi-label model's pathology).
    pub target: i64,
    /// The AX heatmap h = a / max|a|, `[C, H, W]` (C = the model's input channels, 3 or 1).
    pub heatmap: Arc<Vec<f32>>,
    /// max|a| before normalisation.
    pub raw_abs_max: f32,
    /// CO with x + h.
    pub co_sum: f32,
    /// CO with x ⊙ h.
    pub co_mult: f32,
    /// The attribution was all zero.
    pub zero: bool,
}

/// An opened image and everything computed on it.
#[derive(Debug, Clone)]
pub struct ImageEntry {
    /// Its file.
    pub path: PathBuf,
    /// Pixels at model resolution.
    pub image: Arc<Image>,
    /// Identifies `image`; a new one whenever the image is decoded again.
    pub image_id: u64,
    /// Top classes on the image, once predicted.
    pub prediction: Option<Vec<ClassScore>>,
    /// Ground truth, if the user set one.
    pub label: Option<i64>,
    /// The class to explain (None: the predicted class).
    pub target: Option<i64>,
    /// Attribution results by method.
    pub attributions: BTreeMap<Method, AttributionResult>,
    /// The GAX run, live or finished (shared with the exports writing it; a step streamed in
    /// meanwhile copies it first).
    pub run: Option<Arc<RunRecord>>,
    /// Identifies `run`; a new one whenever a run starts or is opened.
    pub run_id: u64,
    /// For a grayscale DICOM file: its frame, windows and facts.
    pub dicom: Option<super::dicom::DicomEntry>,
}

impl ImageEntry {
    /// A freshly opened image with nothing computed on it; `image_id` identifies its pixels.
    pub fn new(path: PathBuf, image: Arc<Image>, image_id: u64) -> Self {
        Self {
            path,
            image,
            image_id,
            prediction: None,
            label: None,
            target: None,
            attributions: BTreeMap::new(),
            run: None,
            run_id: 0,
            dicom: None,
        }
    }

    /// The window and frame its model input is made with (defaults for non-DICOM images).
    pub fn load_options(&self) -> crate::input::LoadOptions {
        self.dicom.as_ref().map(super::dicom::DicomEntry::options).unwrap_or_default()
    }

    /// The file name for lists.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }

    /// The predicted class, once known.
    pub fn predicted(&self) -> Option<i64> {
        self.prediction.as_ref().and_then(|p| p.first()).map(|c| c.class)
    }
}

/// The step slider's state.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The selected step.
    pub selected: usize,
    /// Follow the newest step as it streams in (until the user scrubs).
    pub follow: bool,
    /// Playing back.
    pub playing: bool,
    /// Playback speed in steps per second.
    pub speed: f32,
    /// Seconds accumulated towards the next playback step.
    pub accum: f32,
}

/// The status line.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The message.
    pub text: String,
    /// Whether it reports an error. An error stays until dismissed.
    pub error: bool,
    /// Whether it is a warning (a job went on, but not as asked: e.g. on the CPU after the GPU
    /// ran out of memory). A warning stays until dismissed too, unless an error replaces it.
    pub warning: bool,
    /// The latest information that arrived while an error was on show, shown once it is
    /// dismissed.
    pub later: Option<String>,
}

/// What a pending job is for, so its events land in the right place.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    /// A model load.
    Model(ModelSource),
    /// An image load; `true` makes it the current image once loaded.
    Image(bool),
    /// A prediction on image `usize`.
    Predict(usize),
    /// Attribution on image `usize`.
    Attribute(usize),
    /// GAX on image `usize`.
    Gax(usize),
    /// Image `usize` decoded again at a newly loaded model's input size.
    Reload(usize),
    /// Scoring the review folder's cases.
    Review,
    /// A dataset run.
    Dataset,
    /// The demo data job.
    Demo,
}

/// Everything the explorer shows.
#[derive(Debug, Default)]
pub struct AppState {
    /// The device the user asked for.
    pub device_choice: DeviceChoice,
    /// The device in use, in words.
    pub device: String,
    /// The loaded model.
    pub model: Option<ModelInfo>,
    /// Opened images.
    pub images: Vec<ImageEntry>,
    /// Index of the current image.
    pub current: Option<usize>,
    /// GAX hyper-parameters.
    pub gax: GaxConfig,
    /// Methods chosen for comparison.
    pub methods: Vec<Method>,
    /// Jobs in flight.
    pub pending: BTreeMap<JobId, Pending>,
    /// The running GAX job, if any.
    pub gax_job: Option<JobId>,
    /// Step slider.
    pub timeline: Timeline,
    /// Colour scale.
    pub scale: ScaleMode,
    /// Which heatmap the central view shows.
    pub view: HeatmapSource,
    /// Heatmap overlay opacity.
    pub opacity: f32,
    /// How the method comparison's tiles are scaled.
    pub compare_scale: CompareScale,
    /// How the central view arranges its panels.
    pub panels: ViewPanels,
    /// The help overlay is open.
    pub help_open: bool,
    /// The resizable panels' sizes (kept between sessions).
    pub sizes: super::settings::PanelSizes,
    /// Show loss and similarity with the CO curve.
    pub show_loss: bool,
    /// Status line.
    pub status: Status,
    /// Recently opened files, newest first.
    pub recent: Vec<PathBuf>,
    /// Linked zoom and pan of the image panels.
    pub zoom: ZoomPan,
    /// Start GAX once the current image's prediction arrives (`gui --gax`).
    pub auto_gax: bool,
    /// Which tab is on show.
    pub tab: Tab,
    /// The dataset tab.
    pub dataset: DatasetState,
    /// The dataset tab's demo data.
    pub demo: super::demo::DemoState,
    /// The last id handed out by [`Self::fresh_id`].
    pub last_id: u64,
    /// The 2-D example tab.
    pub toy2d: super::toy2d::Toy2dState,
    /// The review tab.
    pub review: super::review::ReviewState,
    /// DICOM reading options (display inversion, header, "what the model saw").
    pub reading: super::dicom::Reading,
}

/// The window's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// One image: heatmaps, GAX, methods.
    #[default]
    Explorer,
    /// CO distributions over a labelled folder.
    Dataset,
    /// The paper's two-dimensional example (Section 2, Figures 1 and 6).
    Toy2d,
    /// A folder of studies read one by one.
    Review,
}

/// A group of dataset rows picked in a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetPick {
    /// Method (or GAX).
    pub method: HeatmapSource,
    /// Correctly (true) or wrongly predicted images.
    pub correct: bool,
    /// Only CO values in this range (a histogram bin), if set.
    pub range: Option<(f64, f64)>,
}

/// The dataset tab's state.
#[derive(Debug, Default)]
pub struct DatasetState {
    /// The ImageFolder tree (as typed).
    pub dir: String,
    /// The rows of the last run.
    pub rows: Vec<crate::dataset::Row>,
    /// Counts finished runs, so views of the rows know when to rebuild.
    pub revision: u64,
    /// Its statistics.
    pub summary: Option<crate::dataset::Summary>,
    /// The running job.
    pub job: Option<JobId>,
    /// Progress of the running job.
    pub progress: Option<crate::dataset::Progress>,
    /// Variant shown in the plots.
    pub variant: crate::ax::Variant,
    /// Method (or GAX) shown in the histogram.
    pub method: Option<HeatmapSource>,
    /// The picked group, listed under the plots.
    pub pick: Option<DatasetPick>,
    /// An image to open in the explorer with this method's heatmap (or a GAX run) once it has
    /// loaded.
    pub open_after_load: Option<(PathBuf, HeatmapSource, i64)>,
    /// GAX steps per image and variant in a dataset run (0: no GAX).
    pub gax_steps: usize,
    /// For a multi-label model: the pathology to score (the folder holds
    /// `PATHOLOGY/positive` and `PATHOLOGY/negative`).
    pub pathology: Option<i64>,
    /// The pathology of the run whose rows are shown (their labels are 0/1 for it); `None` for
    /// a run over class folders.
    pub scored: Option<i64>,
}

impl DatasetState {
    /// The rows of `pick` for the shown variant, best CO first.
    pub fn picked_rows(&self) -> Vec<&crate::dataset::Row> {
        let Some(p) = &self.pick else { return Vec::new() };
        let mut v: Vec<_> = self
            .rows
            .iter()
            .filter(|r| r.method == p.method && r.variant == self.variant && r.correct == p.correct)
            .filter(|r| {
                p.range.is_none_or(|(lo, hi)| f64::from(r.co) >= lo && f64::from(r.co) < hi)
            })
            .collect();
        v.sort_by(|a, b| b.co.total_cmp(&a.co));
        v
    }
}

impl AppState {
    /// A new id, never handed out before: identifies an image, run or result the UI caches
    /// pictures of (a freed address could be reused; an id is not).
    pub fn fresh_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// The current image entry.
    pub fn current_entry(&self) -> Option<&ImageEntry> {
        self.current.and_then(|i| self.images.get(i))
    }

    /// The current image entry, mutable.
    pub fn current_entry_mut(&mut self) -> Option<&mut ImageEntry> {
        self.current.and_then(|i| self.images.get_mut(i))
    }

    /// The current image's GAX run.
    pub fn current_run(&self) -> Option<&RunRecord> {
        self.current_entry().and_then(|e| e.run.as_deref())
    }

    /// Whether a GAX job is running.
    pub fn gax_running(&self) -> bool {
        self.gax_job.is_some()
    }

    /// Sets an informational status; while an error or warning is on show it waits behind it.
    pub fn info(&mut self, text: impl Into<String>) {
        if self.status.error || self.status.warning {
            self.status.later = Some(text.into());
        } else {
            self.status = Status { text: text.into(), ..Status::default() };
        }
    }

    /// Sets a warning status, which stays until [`Self::dismiss_error`] (an error on show stays
    /// in front of it).
    pub fn warn(&mut self, text: impl Into<String>) {
        if self.status.error {
            self.status.later = Some(text.into());
        } else {
            self.status = Status { text: text.into(), warning: true, ..Status::default() };
        }
    }

    /// Sets an error status, which stays until [`Self::dismiss_error`].
    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Status { text: text.into(), error: true, ..Status::default() };
    }

    /// Dismisses the error or warning on show, showing the information that came after it.
    pub fn dismiss_error(&mut self) {
        if self.status.error || self.status.warning {
            let text = self.status.later.take().unwrap_or_default();
            self.status = Status { text, ..Status::default() };
        }
    }

    /// Remembers a path in the recent list.
    pub fn remember(&mut self, path: PathBuf) {
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(10);
    }

    /// The label of `class` from the model, or its number.
    pub fn class_name(&self, class: i64) -> String {
        self.model
            .as_ref()
            .and_then(|m| usize::try_from(class).ok().and_then(|c| m.labels.get(c)).cloned())
            .unwrap_or_else(|| format!("class {class}"))
    }
}

//! The dataset tab's "Demo data": seeded phantoms in the user's data folder scored by both
//! shipped models on the worker, so the paper's correct/wrong gap of a well-trained and an
//! under-trained model shows side by side in one click.

use std::path::{Path, PathBuf};

use super::App;
use super::state::Pending;
use crate::attribution::Method;
use crate::worker::demo::{DemoResult, DemoSpec, DemoStage};
use crate::worker::{Command, JobId};

/// The environment variable that sets how many phantoms the demo writes (default
/// [`DEFAULT_COUNT`]).
pub const COUNT_VAR: &str = "HEATMAP_EXPLORER_DEMO_COUNT";
/// The environment variable that names the user's data folder.
pub const DATA_VAR: &str = "HEATMAP_EXPLORER_DATA";
/// The environment variable that names the folder of the shipped models.
pub const MODELS_VAR: &str = "HEATMAP_EXPLORER_MODELS";
/// Phantoms the demo writes by default.
pub const DEFAULT_COUNT: usize = 400;
/// The methods the demo scores: the three whose gap the README reports on the under-trained
/// model (the other three add about as much time again).
pub const DEFAULT_METHODS: [Method; 3] =
    [Method::Saliency, Method::InputXGradient, Method::DeepLift];
/// The demo's seed: one no shipped model was trained or validated on (as `bench/demo.sh`).
pub const SEED: u64 = 2027;
/// The shipped models, with the names the tables show.
pub const SHIPPED: [(&str, &str); 2] =
    [("well-trained", "phantom_squeezenet.json"), ("under-trained", "phantom_squeezenet_sub.json")];

/// The demo's state.
#[derive(Debug, Clone)]
pub struct DemoState {
    /// The user's data folder, where the demo folder is written.
    pub root: PathBuf,
    /// Phantoms to write.
    pub count: usize,
    /// Methods scored.
    pub methods: Vec<Method>,
    /// The running job.
    pub job: Option<JobId>,
    /// Where it is.
    pub stage: Option<DemoStage>,
    /// One result per model that finished, in model order.
    pub results: Vec<DemoResult>,
    /// Counts result changes, so views know when to rebuild.
    pub revision: u64,
}

impl Default for DemoState {
    fn default() -> Self {
        let count = std::env::var(COUNT_VAR)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(DEFAULT_COUNT);
        Self {
            root: data_folder(),
            count,
            methods: DEFAULT_METHODS.to_vec(),
            job: None,
            stage: None,
            results: Vec::new(),
            revision: 0,
        }
    }
}

/// The user's data folder: `$HEATMAP_EXPLORER_DATA`, else `heatmap-explorer` under
/// `$XDG_DATA_HOME` or `~/.local/share`, else under the temporary folder.
pub fn data_folder() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = var(DATA_VAR) {
        return p;
    }
    var("XDG_DATA_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("heatmap-explorer")
}

/// `path` as the user reads it: under the home folder as `~/…`.
pub fn shown_path(path: &Path) -> String {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    match home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) => Path::new("~").join(rest).display().to_string(),
        None => path.display().to_string(),
    }
}

/// The folder holding the shipped model cards: `$HEATMAP_EXPLORER_MODELS`, else the first of
/// `models/` in the working folder, beside the executable or above it (a cargo `target/`
/// build), or in the source tree it was built from, that holds them.
pub fn shipped_models_folder() -> Option<PathBuf> {
    let holds = |d: &Path| SHIPPED.iter().all(|(_, card)| d.join(card).is_file());
    if let Some(p) = std::env::var_os(MODELS_VAR).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let mut candidates = vec![PathBuf::from("models")];
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).take(4).map(|d| d.join("models")));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    candidates.into_iter().find(|d| holds(d))
}

impl App {
    /// Starts the demo: phantoms into the data folder (reused when an earlier demo wrote the
    /// same ones), then both shipped models score them, one after the other.
    pub fn run_demo(&mut self) {
        let Some(dir) = shipped_models_folder() else {
            self.state.error(format!(
                "the shipped models ({}) were not found: set {MODELS_VAR} to their folder",
                SHIPPED.map(|(_, c)| c).join(", ")
            ));
            return;
        };
        let demo = &mut self.state.demo;
        if demo.methods.is_empty() {
            self.state.error("the demo needs at least one method");
            return;
        }
        let spec = DemoSpec {
            root: demo.root.clone(),
            count: demo.count.max(1),
            seed: SEED,
            models: SHIPPED
                .iter()
                .map(|(name, card)| ((*name).to_owned(), dir.join(card)))
                .collect(),
            methods: demo.methods.clone(),
            batch: 16,
            device: self.state.device_choice,
        };
        demo.results.clear();
        demo.revision += 1;
        demo.stage = None;
        self.state.info(format!(
            "demo: {} phantoms in {}, then both shipped models",
            spec.count,
            spec.root.display()
        ));
        let job = self.submit(|job| Command::RunDemo { job, spec }, Pending::Demo);
        self.state.demo.job = job;
    }

    /// Cancels the demo (written phantoms and finished batches stay; a rerun resumes).
    pub fn stop_demo(&mut self) {
        if let Some(job) = self.state.demo.job.take() {
            self.worker.cancel(job);
            self.state.pending.remove(&job);
            self.state.demo.stage = None;
            self.state.info("demo stopped; run it again to resume");
        }
    }

    /// Applies the demo's progress.
    pub(super) fn on_demo_progress(&mut self, stage: DemoStage) {
        let folder = match &stage {
            DemoStage::Generating { folder, .. } | DemoStage::Scoring { folder, .. } => folder,
        };
        if matches!(stage, DemoStage::Scoring { progress: None, .. }) {
            // The phantoms are there: the tab's folder points at them for runs of its own.
            self.state.dataset.dir = folder.display().to_string();
        }
        self.state.demo.stage = Some(stage);
    }

    /// Applies one model's finished demo result.
    pub(super) fn on_demo_result(&mut self, result: DemoResult) {
        let s = &result.summary;
        self.state.info(format!(
            "demo: {} model, accuracy {:.3} on {} phantoms",
            result.name, s.accuracy, s.images
        ));
        let demo = &mut self.state.demo;
        demo.results.retain(|r| r.model != result.model);
        demo.results.push(result);
        demo.results.sort_by_key(|r| r.model);
        demo.revision += 1;
    }

    /// The demo job ended (finished or failed).
    pub(super) fn on_demo_end(&mut self, job: JobId) {
        if self.state.demo.job == Some(job) {
            self.state.demo.job = None;
            self.state.demo.stage = None;
        }
    }
}

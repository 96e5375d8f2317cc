//! The eframe application: state, the worker handle, the view models and the UI's textures.
//! `intents` (and `dataset`, `export`) turn what the user asks for into worker commands or
//! tasks off the UI thread (`background`, `review_io`),
//! `logic` applies worker events to the state, `crate::view_model` derives what is drawn, and
//! `crate::ui` draws it.

mod background;
mod dataset;
pub mod demo;
pub mod dicom;
mod export;
mod intents;
mod logic;
pub mod review;
pub mod review_io;
pub mod settings;
pub mod state;
pub mod toy2d;
pub mod view_state;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use export::write_gif;
pub use state::AppState;

use crate::ax::HeatmapSource;
use crate::error::Result;
use crate::model::ModelSource;
use crate::runtime::{self, DeviceChoice};
use crate::ui::Textures;
use crate::view_model::{ExplorerView, ViewModels};
use crate::worker::WorkerHandle;

/// What the app opens at start.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// The device to use.
    pub device: DeviceChoice,
    /// A model to load.
    pub model: Option<ModelSource>,
    /// Images to open.
    pub images: Vec<std::path::PathBuf>,
    /// Run files to open.
    pub runs: Vec<std::path::PathBuf>,
    /// Start GAX on the first image as soon as its prediction is ready.
    pub auto_gax: bool,
    /// Faults the worker injects (for the tests); `None`: those of `HEATMAP_EXPLORER_FAULT`.
    pub faults: Option<crate::io::fault::Faults>,
}

/// The explorer.
pub struct App {
    /// Everything shown; plain data.
    pub state: AppState,
    worker: WorkerHandle,
    /// GPU textures, created once and updated in place.
    pub textures: Textures,
    /// What the UI draws, computed from the state when it changes.
    pub views: ViewModels,
    /// Exports, saves and run-file opens running off the UI thread.
    tasks: background::Tasks,
    /// The task of the newest run-file open: its run is shown when it arrives.
    newest_run_open: u64,
    /// Where the window keeps its settings between sessions (written on exit).
    settings_file: Option<settings::FileStorage>,
    /// Opens review folders and writes the review state and CSV off the UI thread.
    review_io: review_io::ReviewWriter,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("state", &self.state).finish_non_exhaustive()
    }
}

impl App {
    /// Creates the app; the worker wakes `ctx` after every event.
    pub fn new(ctx: &egui::Context, startup: Startup) -> Result<Self> {
        Self::with_storage(ctx, startup, None)
    }

    /// Creates the app with the settings kept in `storage` (from an earlier session), then
    /// opens what `startup` names.
    pub fn with_storage(
        ctx: &egui::Context,
        startup: Startup,
        storage: Option<&dyn eframe::Storage>,
    ) -> Result<Self> {
        let waker_ctx = ctx.clone();
        let waker: crate::worker::handle::Waker = Arc::new(move || waker_ctx.request_repaint());
        let worker = WorkerHandle::spawn_with_faults(waker, startup.faults)?;
        let mut state = AppState {
            device_choice: startup.device,
            opacity: 0.5,
            methods: crate::attribution::Method::ALL.to_vec(),
            ..AppState::default()
        };
        state.timeline.speed = 20.0;
        state.timeline.follow = true;
        state.device = match startup.device.resolve() {
            Ok(d) => runtime::describe_device(d),
            Err(e) => {
                state.error(e.to_string());
                "unavailable".to_owned()
            }
        };
        if let Some(settings) = storage.and_then(settings::Settings::load) {
            settings.apply(&mut state);
        }
        state.info("ready: open a model and an image (File menu or drag and drop)");
        state.auto_gax = startup.auto_gax;
        let mut app = Self {
            state,
            worker,
            textures: Textures::default(),
            views: ViewModels::default(),
            tasks: background::Tasks::new(Some(ctx.clone())),
            newest_run_open: 0,
            settings_file: None,
            review_io: review_io::ReviewWriter::spawn(Some(ctx.clone()))?,
        };
        if let Some(m) = startup.model {
            app.open_model(m);
        }
        for p in startup.images {
            app.load_image(p, false);
        }
        for r in startup.runs {
            app.open_run(r);
        }
        Ok(app)
    }

    /// Creates the app with the settings in `file`, written back there on exit.
    pub fn with_settings_file(
        ctx: &egui::Context,
        startup: Startup,
        file: settings::FileStorage,
    ) -> Result<Self> {
        let mut app = Self::with_storage(ctx, startup, Some(&file))?;
        app.settings_file = Some(file);
        Ok(app)
    }

    /// Creates the app from eframe's creation context, with the settings in its storage.
    pub fn from_creation(cc: &eframe::CreationContext<'_>, startup: Startup) -> Result<Self> {
        Self::with_storage(&cc.egui_ctx, startup, cc.storage)
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.drain_events(Duration::from_millis(10)) {
            ctx.request_repaint();
        }
        self.poll_background();
        self.poll_review_io();
        if self.state.tab == state::Tab::Toy2d {
            self.state.toy2d.refresh();
        }
        let dt = ctx.input(|i| i.stable_dt).min(0.1);
        if self.advance_playback(dt) {
            ctx.request_repaint();
        }
        let dropped: Vec<_> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        for p in dropped {
            self.open_path(p);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        crate::ui::draw(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        settings::Settings::of(&self.state).store(storage);
    }

    fn on_exit(&mut self) {
        if let Some(mut file) = self.settings_file.take() {
            self.save(&mut file);
            eframe::Storage::flush(&mut file);
        }
    }
}

impl App {
    /// Opens a dropped or picked file by its kind: model card, weights, TorchScript, run file
    /// or image.
    pub fn open_path(&mut self, path: std::path::PathBuf) {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "json" => self.open_model(ModelSource::Card(path)),
            "pt" | "ts" => self.open_model(ModelSource::TorchScript {
                path,
                normalize: crate::model::Normalize::Imagenet,
                labels: None,
            }),
            "gaxrun" => self.open_run(path),
            "safetensors" => self.state.error(
                "a bare .safetensors file needs its architecture: \
                 open its model card (.json) instead",
            ),
            _ => self.open_image(path),
        }
    }

    /// Advances playback by `dt` seconds; returns whether playback is active.
    pub fn advance_playback(&mut self, dt: f32) -> bool {
        let t = &mut self.state.timeline;
        if !t.playing {
            return false;
        }
        let last = self
            .state
            .current_entry()
            .and_then(|e| e.run.as_deref())
            .map_or(0, |r| r.steps.len().saturating_sub(1));
        let t = &mut self.state.timeline;
        t.accum += dt * t.speed.max(0.1);
        while t.accum >= 1.0 {
            t.accum -= 1.0;
            if t.selected >= last {
                t.playing = false;
                break;
            }
            t.selected += 1;
        }
        t.follow = false;
        t.playing
    }

    /// The central view, rebuilt when what it shows changed, and how soon to draw again while
    /// a streaming run's rebuild is put off. With GAX chosen and no run on the image, a method's
    /// heatmap is shown instead when there is one.
    pub fn explorer_view(&mut self) -> (Option<Rc<ExplorerView>>, Option<Duration>) {
        if self.state.view == HeatmapSource::Gax
            && self.state.current_run().is_none()
            && let Some(m) =
                self.state.current_entry().and_then(|e| e.attributions.keys().next().copied())
        {
            self.state.view = HeatmapSource::Method(m);
        }
        self.views.explorer(&self.state, Instant::now())
    }

    /// Whether the worker thread is alive.
    pub fn worker_alive(&self) -> bool {
        self.worker.is_alive()
    }
}

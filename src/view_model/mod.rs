//! View models: what the UI draws, computed from the state once per change (a GAX step, a
//! method result, a dataset run, a scale or variant choice) and cached, so that UI files only
//! draw. Pixel maths, colour mapping, binning and pick geometry live here and are unit-tested;
//! no egui widget and no tensor appears.

mod builder;
pub mod dataset;
pub mod demo;
pub mod explorer;
pub mod layout;
pub mod model_input;
pub mod planes;
pub mod tiles;
pub mod timeline;
pub mod window;

use std::rc::Rc;
use std::time::{Duration, Instant};

pub use dataset::DatasetView;
pub use demo::DemoView;
pub use explorer::ExplorerView;
pub use model_input::ModelInputView;
pub use tiles::{Thumb, Tile};
pub use timeline::{Axis, Curves};
pub use window::DicomView;

use crate::app::state::AppState;

/// While a run streams and the view follows it, panels are rebuilt at most this often, so
/// colour mapping never crowds out a frame.
const STREAM_REBUILD: Duration = Duration::from_millis(50);

/// The comparison tiles last built: the image, their key, the tiles and when they were built.
type CachedTiles = (usize, Vec<u64>, Rc<Vec<Tile>>, Instant);

/// While a build runs off the UI thread, the UI looks for it this often.
const BUILD_POLL: Duration = Duration::from_millis(4);

/// The cached view models.
#[derive(Default)]
pub struct ViewModels {
    explorer: Option<(Rc<ExplorerView>, Instant)>,
    /// Central views built so far (each build's revision).
    builds: u64,
    /// The thread that builds the central view while a run streams (started on first use).
    builder: Option<builder::Builder>,
    /// Build on the UI thread even while a run streams (for comparisons).
    in_place: bool,
    /// Bumped by every build on the UI thread: a build from the thread asked for before it is
    /// stale.
    generation: u64,
    comparison: Option<CachedTiles>,
    /// Comparison tiles built so far (each tile's content id).
    tiles_built: u64,
    thumbs: Rc<Vec<Thumb>>,
    curves: Option<Rc<Curves>>,
    dataset: Option<Rc<DatasetView>>,
    demo: Option<Rc<DemoView>>,
    dicom: Option<(Rc<DicomView>, u64)>,
    model_input: Option<(ModelInputKey, Rc<ModelInputView>)>,
}

/// What the "what the model saw" view shows: the image, the window it was made with, and
/// whether a newer input is on its way.
type ModelInputKey = (usize, u64, Option<hx_formats::Window>, bool);

impl std::fmt::Debug for ViewModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewModels").finish_non_exhaustive()
    }
}

impl ViewModels {
    /// The central view of `state` at time `now`, rebuilt if what it shows changed, and how
    /// soon to look again when a rebuild was put off or runs off the UI thread (streaming).
    pub fn explorer(
        &mut self,
        state: &AppState,
        now: Instant,
    ) -> (Option<Rc<ExplorerView>>, Option<Duration>) {
        let Some(key) = explorer::ExplorerKey::of(state) else { return (None, None) };
        self.take_built();
        let busy = self.builder.as_ref().is_some_and(builder::Builder::busy);
        if let Some((view, built)) = &self.explorer {
            let view = Rc::clone(view);
            if view.key == key {
                return (Some(view), busy.then_some(BUILD_POLL));
            }
            // While a run streams and the view follows it, the thread builds the newest step
            // at most every 50 ms and the UI shows the last finished build meanwhile.
            let streaming = state.gax_running() && state.timeline.follow;
            let age = now.saturating_duration_since(*built);
            if streaming && view.key.same_image(&key) {
                if busy {
                    return (Some(view), Some(BUILD_POLL));
                }
                if age < STREAM_REBUILD {
                    return (Some(view), Some(STREAM_REBUILD - age));
                }
                if !self.in_place && self.build_elsewhere(state, key, now) {
                    return (Some(view), Some(BUILD_POLL));
                }
            }
        }
        self.generation += 1;
        self.builds += 1;
        let revision = self.builds;
        let view = explorer::build(state, key).map(|v| Rc::new(ExplorerView { revision, ..v }));
        self.explorer = view.as_ref().map(|v| (Rc::clone(v), now));
        (view, None)
    }

    /// Builds the central view on the UI thread even while a run streams (true), as before the
    /// build thread existed, or off it (false, the default): for measuring the difference.
    pub fn build_in_place(&mut self, in_place: bool) {
        self.in_place = in_place;
    }

    /// Hands the build of `key` to the build thread; false when there is no thread.
    fn build_elsewhere(
        &mut self,
        state: &AppState,
        key: explorer::ExplorerKey,
        now: Instant,
    ) -> bool {
        let Some(prepared) = explorer::prepare(state, key) else { return false };
        if self.builder.is_none() {
            self.builder = builder::Builder::spawn();
        }
        let Some(b) = self.builder.as_mut() else { return false };
        if !b.submit(self.generation, prepared) {
            self.builder = None;
            return false;
        }
        // The next build is due 50 ms after this one was asked for.
        if let Some((_, built)) = self.explorer.as_mut() {
            *built = now;
        }
        true
    }

    /// Takes a view the build thread finished, unless a build on the UI thread made it stale.
    fn take_built(&mut self) {
        let Some((generation, view)) = self.builder.as_mut().and_then(builder::Builder::poll)
        else {
            return;
        };
        if generation != self.generation {
            return;
        }
        self.builds += 1;
        let view = Rc::new(ExplorerView { revision: self.builds, ..view });
        let built = self.explorer.as_ref().map_or_else(Instant::now, |(_, b)| *b);
        self.explorer = Some((view, built));
    }

    /// The last built central view (what the panels show now).
    pub fn last_explorer(&self) -> Option<Rc<ExplorerView>> {
        self.explorer.as_ref().map(|(v, _)| Rc::clone(v))
    }

    /// The comparison tiles of the current image (its methods, then GAX at the selected step).
    /// While a run streams, a new step alone rebuilds them at most every 50 ms.
    pub fn comparison(&mut self, state: &AppState) -> Rc<Vec<Tile>> {
        let (Some(index), Some(key)) = (state.current, tiles::comparison_key(state)) else {
            return Rc::default();
        };
        let now = Instant::now();
        if let Some((i, k, tiles, built)) = &self.comparison
            && *i == index
        {
            let streaming = state.gax_running() && state.timeline.follow;
            // The key ends with the GAX step; all before it names the same maps.
            let n = key.len().saturating_sub(1);
            let same_maps = k.len() == key.len() && k[..n] == key[..n];
            let fresh = now.saturating_duration_since(*built) < STREAM_REBUILD;
            if *k == key || (streaming && same_maps && fresh) {
                return Rc::clone(tiles);
            }
        }
        let tiles = Rc::new(tiles::comparison(state, self.tiles_built + 1));
        // At most seven tiles: the next build's ids start past them.
        self.tiles_built += 8;
        self.comparison = Some((index, key, Rc::clone(&tiles), now));
        tiles
    }

    /// The image list's thumbnails, one per open image.
    pub fn thumbnails(&mut self, state: &AppState) -> Rc<Vec<Thumb>> {
        let fresh = self.thumbs.len() == state.images.len()
            && self.thumbs.iter().zip(&state.images).all(|(t, e)| t.image_id == e.image_id);
        if !fresh {
            self.thumbs = Rc::new(tiles::thumbnails(&state.images, &self.thumbs));
        }
        Rc::clone(&self.thumbs)
    }

    /// The current image's GAX curves, or `None` without a run.
    pub fn curves(&mut self, state: &AppState) -> Option<Rc<Curves>> {
        let key = timeline::CurveKey::of(state)?;
        if let Some(c) = self.curves.as_ref().filter(|c| c.key == key) {
            return Some(Rc::clone(c));
        }
        let steps = &state.current_run()?.steps;
        let curves = Rc::new(Curves::of(key, steps));
        self.curves = Some(Rc::clone(&curves));
        Some(curves)
    }

    /// The current DICOM image windowed for reading, and its content id (a new one per
    /// build), or `None` when the current image is not a grayscale DICOM file.
    pub fn dicom(&mut self, state: &AppState) -> Option<(Rc<DicomView>, u64)> {
        let index = state.current?;
        let d = state.images.get(index)?.dicom.as_ref()?;
        let key = window::DicomKey {
            image: index,
            source_id: d.source_id,
            window: d.shown,
            invert: state.reading.invert,
            // A drag, or a typed or dragged value not committed yet: the window changes
            // every frame until it is committed, and a preview is enough until then.
            preview: d.drag.is_some() || d.shown != d.window,
        };
        if let Some((view, id)) = self.dicom.as_ref().filter(|(v, _)| v.key == key) {
            return Some((Rc::clone(view), *id));
        }
        self.builds += 1;
        let view = Rc::new(DicomView::build(key, std::sync::Arc::clone(&d.source)));
        self.dicom = Some((Rc::clone(&view), self.builds));
        Some((view, self.builds))
    }

    /// "What the model saw" for the current image; `pending`: a new input is being made.
    pub fn model_input(&mut self, state: &AppState, pending: bool) -> Option<Rc<ModelInputView>> {
        let index = state.current?;
        let e = state.images.get(index)?;
        let window = e.dicom.as_ref().map(|d| d.window);
        let key = (index, e.image_id, window, pending);
        if let Some((_, v)) = self.model_input.as_ref().filter(|(k, _)| *k == key) {
            return Some(Rc::clone(v));
        }
        let described = e.dicom.as_ref().map(|d| {
            let text =
                window::resolve(&d.source, &d.window).map_or_else(|err| err, |r| r.readout());
            if pending { format!("{text} (the input for it is being made)") } else { text }
        });
        let view = Rc::new(model_input::build(e, described, state.model.as_ref()));
        self.model_input = Some((key, Rc::clone(&view)));
        Some(view)
    }

    /// The dataset tab, or `None` before a run finished.
    pub fn dataset(&mut self, state: &AppState) -> Option<Rc<DatasetView>> {
        let key = dataset::DatasetKey::of(&state.dataset);
        if let Some(view) = self.dataset.as_ref().filter(|v| v.key == key) {
            return Some(Rc::clone(view));
        }
        self.dataset = dataset::build(&state.dataset, key).map(Rc::new);
        self.dataset.clone()
    }

    /// The demo's results in the dataset tab's variant.
    pub fn demo(&mut self, state: &AppState) -> Rc<DemoView> {
        let key = (state.demo.revision, state.dataset.variant);
        match &self.demo {
            Some(v) if v.key == key => Rc::clone(v),
            _ => Rc::clone(self.demo.insert(Rc::new(demo::build(&state.demo, key.1)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::state::ImageEntry;
    use crate::gax::compact::CompactHeatmap;
    use crate::gax::{GaxConfig, GaxStep};
    use crate::io::image::Image;
    use crate::io::runfile::{ModelIdentity, RunRecord};
    use crate::worker::JobId;

    /// A streaming 2×1 run of `steps` steps, the timeline following it.
    fn streaming(steps: usize) -> AppState {
        let image = Image { width: 2, height: 1, data: vec![0.5; 6] };
        let mut e = ImageEntry::new("x.png".into(), Arc::new(image.clone()), 1);
        let mut run =
            RunRecord::new(GaxConfig::default(), image, "x".into(), 0, ModelIdentity::default());
        for step in 0..steps {
            let v = 0.1 * crate::convert::to_f32(step + 1);
            run.push(GaxStep {
                image: 0,
                step,
                co: v,
                loss: 0.0,
                similarity: 0.0,
                abs_max: v,
                predicted: 0,
                top: Vec::new(),
                heatmap: CompactHeatmap::from_f32(1, 2, &[v, 0.0, 0.0, 0.0, 0.0, 0.0]),
            });
        }
        e.run = Some(Arc::new(run));
        e.run_id = 2;
        let mut s = AppState { images: vec![e], current: Some(0), ..AppState::default() };
        s.gax_job = Some(JobId(1));
        s.timeline.follow = true;
        s
    }

    #[test]
    fn a_streaming_run_is_built_off_the_ui_thread_and_shown_when_ready() {
        let mut views = ViewModels::default();
        let mut state = streaming(3);
        let t0 = Instant::now();
        let (first, again) = views.explorer(&state, t0);
        let first = first.expect("view");
        assert!(first.caption.starts_with("GAX step 0") && again.is_none(), "built in place");
        state.timeline.selected = 2;
        // Within 50 ms of the last build the view waits; after it, the thread builds.
        let (v, again) = views.explorer(&state, t0 + Duration::from_millis(10));
        assert!(Rc::ptr_eq(&v.expect("view"), &first) && again == Some(Duration::from_millis(40)));
        let later = t0 + STREAM_REBUILD;
        let (v, again) = views.explorer(&state, later);
        assert!(Rc::ptr_eq(&v.expect("view"), &first) && again == Some(BUILD_POLL));
        let end = Instant::now() + Duration::from_secs(10);
        let shown = loop {
            let (v, _) = views.explorer(&state, later);
            let v = v.expect("view");
            if !Rc::ptr_eq(&v, &first) {
                break v;
            }
            assert!(Instant::now() < end, "the build thread never answered");
            std::thread::sleep(Duration::from_millis(2));
        };
        assert!(shown.caption.starts_with("GAX step 2"), "{}", shown.caption);
        assert!(shown.revision > first.revision);
        // A build asked for while streaming is dropped once a build in place made it stale.
        state.timeline.selected = 1;
        let (_, again) = views.explorer(&state, later + STREAM_REBUILD);
        assert_eq!(again, Some(BUILD_POLL));
        state.gax_job = None;
        state.timeline.selected = 0;
        let (now, _) = views.explorer(&state, later + STREAM_REBUILD);
        let now = now.expect("view");
        assert!(now.caption.starts_with("GAX step 0"));
        std::thread::sleep(Duration::from_millis(200));
        let (after, _) = views.explorer(&state, later + STREAM_REBUILD);
        assert!(Rc::ptr_eq(&after.expect("view"), &now), "the stale build is not shown");
    }
}

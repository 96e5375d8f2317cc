//! View models: what the UI draws, computed from the state once per change (a GAX step, a
//! method result, a dataset run, a scale or variant choice) and cached, so that UI files only
//! draw. Pixel maths, colour mapping, binning and pick geometry live here and are unit-tested;
//! no egui widget and no tensor appears.

pub mod dataset;
pub mod explorer;
pub mod layout;
pub mod planes;
pub mod tiles;
pub mod timeline;

use std::rc::Rc;
use std::time::{Duration, Instant};

pub use dataset::DatasetView;
pub use explorer::ExplorerView;
pub use tiles::{Thumb, Tile};
pub use timeline::{Axis, Curves};

use crate::app::state::AppState;

/// While a run streams and the view follows it, panels are rebuilt at most this often, so
/// colour mapping never crowds out a frame.
const STREAM_REBUILD: Duration = Duration::from_millis(50);

/// The comparison tiles last built: the image, their key, the tiles and when they were built.
type CachedTiles = (usize, Vec<u64>, Rc<Vec<Tile>>, Instant);

/// The cached view models.
#[derive(Default)]
pub struct ViewModels {
    explorer: Option<(Rc<ExplorerView>, Instant)>,
    /// Central views built so far (each build's revision).
    builds: u64,
    comparison: Option<CachedTiles>,
    /// Comparison tiles built so far (each tile's content id).
    tiles_built: u64,
    thumbs: Rc<Vec<Thumb>>,
    curves: Option<Rc<Curves>>,
    dataset: Option<Rc<DatasetView>>,
}

impl std::fmt::Debug for ViewModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewModels").finish_non_exhaustive()
    }
}

impl ViewModels {
    /// The central view of `state` at time `now`, rebuilt if what it shows changed, and how
    /// soon to look again when a rebuild was put off (streaming).
    pub fn explorer(
        &mut self,
        state: &AppState,
        now: Instant,
    ) -> (Option<Rc<ExplorerView>>, Option<Duration>) {
        let Some(key) = explorer::ExplorerKey::of(state) else { return (None, None) };
        if let Some((view, built)) = &self.explorer {
            if view.key == key {
                return (Some(Rc::clone(view)), None);
            }
            let streaming = state.gax_running() && state.timeline.follow;
            let age = now.saturating_duration_since(*built);
            if streaming && view.key.same_image(&key) && age < STREAM_REBUILD {
                return (Some(Rc::clone(view)), Some(STREAM_REBUILD - age));
            }
        }
        self.builds += 1;
        let revision = self.builds;
        let view = explorer::build(state, key).map(|v| Rc::new(ExplorerView { revision, ..v }));
        self.explorer = view.as_ref().map(|v| (Rc::clone(v), now));
        (view, None)
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

    /// The dataset tab, or `None` before a run finished.
    pub fn dataset(&mut self, state: &AppState) -> Option<Rc<DatasetView>> {
        let key = dataset::DatasetKey::of(&state.dataset);
        if let Some(view) = self.dataset.as_ref().filter(|v| v.key == key) {
            return Some(Rc::clone(view));
        }
        self.dataset = dataset::build(&state.dataset, key).map(Rc::new);
        self.dataset.clone()
    }
}

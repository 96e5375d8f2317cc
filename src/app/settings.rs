//! Settings kept between sessions in eframe's storage: the window layout (panel sizes, grid or
//! focus, the panels shown), recent files and models, the colour scales and the GAX
//! parameters. Stored as JSON under one key; anything missing or unreadable falls back to the
//! defaults, so an old or damaged entry never stops the app from starting.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::state::{AppState, CompareScale, ScaleMode, ViewPanels};
use crate::gax::GaxConfig;

/// The storage key.
pub const KEY: &str = "heatmap-explorer/settings";

/// The sizes of the resizable side and bottom panels, in points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelSizes {
    /// The controls panel's width.
    pub controls: f32,
    /// The timeline's height.
    pub timeline: f32,
    /// The method comparison's width.
    pub comparison: f32,
}

impl Default for PanelSizes {
    fn default() -> Self {
        Self { controls: 270.0, timeline: 280.0, comparison: 250.0 }
    }
}

/// Everything that persists.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Recently opened files (images, models, runs), newest first.
    pub recent: Vec<PathBuf>,
    /// The resizable panels' sizes.
    pub sizes: PanelSizes,
    /// Grid or focus, the focused panel, the hidden panels.
    pub panels: ViewPanels,
    /// The heatmap colour scale.
    pub scale: ScaleMode,
    /// The comparison's scale.
    pub compare_scale: CompareScale,
    /// The overlay's opacity.
    pub opacity: Option<f32>,
    /// Loss and similarity shown beside the CO curve.
    pub show_loss: bool,
    /// The GAX parameters.
    pub gax: Option<GaxConfig>,
}

impl Settings {
    /// The settings of `state`.
    pub fn of(state: &AppState) -> Self {
        Self {
            recent: state.recent.clone(),
            sizes: state.sizes,
            panels: state.panels.clone(),
            scale: state.scale,
            compare_scale: state.compare_scale,
            opacity: Some(state.opacity),
            show_loss: state.show_loss,
            gax: Some(state.gax.clone()),
        }
    }

    /// Puts the settings into `state`.
    pub fn apply(self, state: &mut AppState) {
        state.recent = self.recent;
        state.sizes = self.sizes;
        state.panels = self.panels;
        state.scale = self.scale;
        state.compare_scale = self.compare_scale;
        if let Some(o) = self.opacity.filter(|o| (0.0..=1.0).contains(o)) {
            state.opacity = o;
        }
        state.show_loss = self.show_loss;
        if let Some(g) = self.gax.filter(|g| g.validate().is_ok()) {
            state.gax = g;
        }
    }

    /// The settings in `storage`, or `None` when there are none or they are not JSON. Each
    /// setting that cannot be read (an older version's, say) falls back to its default alone.
    pub fn load(storage: &dyn eframe::Storage) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(&storage.get_string(KEY)?).ok()?;
        fn get<T: serde::de::DeserializeOwned + Default>(v: &serde_json::Value, key: &str) -> T {
            v.get(key).and_then(|x| serde_json::from_value(x.clone()).ok()).unwrap_or_default()
        }
        Some(Self {
            recent: get(&v, "recent"),
            sizes: get(&v, "sizes"),
            panels: get(&v, "panels"),
            scale: get(&v, "scale"),
            compare_scale: get(&v, "compare_scale"),
            opacity: get(&v, "opacity"),
            show_loss: get(&v, "show_loss"),
            gax: get(&v, "gax"),
        })
    }

    /// Writes the settings to `storage`.
    pub fn store(&self, storage: &mut dyn eframe::Storage) {
        if let Ok(json) = serde_json::to_string(self) {
            storage.set_string(KEY, json);
        }
    }
}

/// eframe's storage interface over a JSON file of key → value strings: what the window keeps
/// its settings in between sessions. (eframe's own `persistence` feature would rebuild the
/// whole GPU stack with serde for the same result.) A missing or unreadable file starts empty;
/// [`eframe::Storage::flush`] writes it atomically.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    entries: std::collections::BTreeMap<String, String>,
}

impl FileStorage {
    /// The environment variable that names the settings file (else the user's config folder).
    pub const PATH_VAR: &str = "HEATMAP_EXPLORER_SETTINGS";

    /// The storage kept in `path`.
    pub fn open(path: PathBuf) -> Self {
        let entries = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Self { path, entries }
    }

    /// The settings file: `$HEATMAP_EXPLORER_SETTINGS`, else `heatmap-explorer/settings.json`
    /// under `$XDG_CONFIG_HOME` or `~/.config`; `None` when there is no home to keep it in.
    pub fn default_path() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(p) = var(Self::PATH_VAR) {
            return Some(p);
        }
        let config = var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))?;
        Some(config.join("heatmap-explorer").join("settings.json"))
    }
}

impl eframe::Storage for FileStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.entries.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.entries.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Writes the file; settings that cannot be written are lost, never an error for the app.
    fn flush(&mut self) {
        let Ok(json) = serde_json::to_vec_pretty(&self.entries) else { return };
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = crate::io::write_atomic(&self.path, &json);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use eframe::Storage as _;

    use super::*;

    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn settings_round_trip_and_bad_entries_fall_back() {
        let state = AppState {
            recent: vec![PathBuf::from("a.png"), PathBuf::from("m.json")],
            scale: ScaleMode::Percentile,
            panels: ViewPanels {
                layout: super::super::state::ViewLayout::Focus,
                hidden: ["change B".to_owned()].into(),
                ..ViewPanels::default()
            },
            sizes: PanelSizes { timeline: 333.0, ..PanelSizes::default() },
            gax: GaxConfig { max_steps: 77, target_co: f64::INFINITY, ..GaxConfig::default() },
            ..AppState::default()
        };
        let mut storage = Memory::default();
        Settings::of(&state).store(&mut storage);
        let mut back = AppState::default();
        Settings::load(&storage).expect("settings").apply(&mut back);
        assert_eq!(Settings::of(&back), Settings::of(&state));
        assert_eq!(back.gax.target_co, f64::INFINITY);
        // Damaged or partial entries: defaults for what is missing, never a failure.
        storage.set_string(KEY, "{not json".to_owned());
        assert!(Settings::load(&storage).is_none());
        storage.set_string(KEY, r#"{"scale":"PerStep","gax":{"lr":-1}}"#.to_owned());
        let partial = Settings::load(&storage).expect("partial");
        assert_eq!(partial.scale, ScaleMode::PerStep);
        assert!(partial.gax.is_none(), "an incomplete GAX entry is dropped");
    }

    #[test]
    fn a_settings_file_survives_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub").join("settings.json");
        let mut file = FileStorage::open(path.clone());
        assert!(file.get_string(KEY).is_none(), "a missing file starts empty");
        let state = AppState { recent: vec![PathBuf::from("x.png")], ..AppState::default() };
        Settings::of(&state).store(&mut file);
        file.flush();
        let back = Settings::load(&FileStorage::open(path.clone())).expect("settings");
        assert_eq!(back.recent, state.recent);
        std::fs::write(&path, b"garbage").expect("write");
        assert!(FileStorage::open(path).get_string(KEY).is_none(), "a damaged file starts empty");
    }
}

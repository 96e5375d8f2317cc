//! The explorer on a laptop (1366×768) and a desktop (1920×1080) screen, after a GAX run and
//! after Run methods: the primary actions, the whole first row of panels and the CO curve with
//! its y ticks are on screen (asserted through the accessibility tree), every comparison tile
//! has colour (asserted on the rendered pixels), and the status line names the image on show.
//! Settings (recent files, layout) survive a restart over the same storage.

use std::collections::HashMap;
use std::path::Path;

use egui::{Rect, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::state::ViewLayout;
use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::model::ModelSource;
use heatmap_explorer::runtime::DeviceChoice;

use crate::ui::step_until;
use crate::util::{random_png, temp_dir};

/// The six methods' tiles and GAX's, by accessible label.
const TILES: [&str; 7] = [
    "Saliency tile",
    "InputXGradient tile",
    "LayerGradCam tile",
    "Deconvolution tile",
    "GuidedBackprop tile",
    "DeepLift tile",
    "GAX tile",
];

fn assert_inside(what: &str, r: Rect, area: Rect) {
    assert!(area.expand(0.5).contains_rect(r), "{what} at {r:?} is not inside {area:?}");
}

/// Run GAX and Run methods, the first row of panels (above the timeline) and the CO curve with
/// at least three y ticks are on `screen`.
fn assert_main_flow_visible(h: &Harness<'_, App>, screen: Rect, when: &str) {
    for label in ["Run GAX", "Run methods"] {
        let r = h.get_by_role_and_label(Role::Button, label).rect();
        assert_inside(&format!("{label} ({when})"), r, screen);
    }
    let timeline_top = h.get_by_label("Timeline").rect().top();
    let view_right =
        h.query_by_label("Method comparison").map_or(screen.right(), |n| n.rect().left());
    let view = Rect::from_min_max(screen.min, egui::pos2(view_right, timeline_top));
    for panel in ["image", "heatmap R", "heatmap G", "heatmap B"] {
        let r = h.get_by_role_and_label(Role::Image, panel).rect();
        assert_inside(&format!("panel {panel} ({when})"), r, view);
        assert!(r.width() >= 96.0, "panel {panel} is {r:?} ({when})");
    }
    let curve = h.get_by_label("CO curve").rect();
    assert_inside(&format!("CO curve ({when})"), curve, screen);
    assert!(curve.height() >= 160.0, "CO curve {curve:?} ({when})");
    let ticks: Vec<Rect> = h.query_all_by_label_contains("CO axis ").map(|n| n.rect()).collect();
    assert!(ticks.len() >= 3, "{} y ticks on the CO curve ({when})", ticks.len());
    for t in ticks {
        assert!(curve.y_range().expand(1.0).contains(t.center().y), "tick {t:?} ({when})");
        assert_inside(&format!("tick ({when})"), t, screen);
    }
}

/// Each comparison tile, as rendered, has pixels that are not white (a map that shows
/// something), and lies on screen.
fn assert_tiles_coloured(h: &mut Harness<'_, App>, screen: Rect) {
    let rects: Vec<(&str, Rect)> =
        TILES.iter().map(|t| (*t, h.get_by_role_and_label(Role::Image, t).rect())).collect();
    let image = h.render().expect("render");
    let ppp = image.width() as f32 / screen.width();
    for (tile, r) in rects {
        assert_inside(tile, r, screen);
        let (x0, y0) = ((r.left() * ppp).ceil() as u32, (r.top() * ppp).ceil() as u32);
        let (x1, y1) = ((r.right() * ppp).floor() as u32, (r.bottom() * ppp).floor() as u32);
        let coloured = (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0[..3].iter().any(|&c| c < 225))
            .count();
        let total = ((x1 - x0) * (y1 - y0)) as usize;
        assert!(coloured * 100 >= total, "{tile}: {coloured} of {total} pixels not white");
    }
}

/// The whole flow on one screen size; ends with a snapshot.
fn explorer_on_screen(size: [f32; 2], snapshot: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let startup = Startup {
        device: DeviceChoice::Cpu,
        model: Some(ModelSource::Card(root.join("models/phantom_squeezenet.json"))),
        images: vec![
            root.join("assets/samples/normal_1.png"),
            root.join("assets/samples/pneumonia_1.png"),
        ],
        ..Startup::default()
    };
    let screen = Rect::from_min_size(egui::Pos2::ZERO, size.into());
    let mut h = Harness::builder()
        .with_size(size)
        .build_eframe(|cc| App::from_creation(cc, startup).expect("app"));
    // Only the image on show is predicted (the worker is serial; a long list would queue ahead
    // of Run GAX): the first image opened becomes current, the second waits to be chosen.
    step_until(&mut h, "both images open and the first predicted", |a| {
        a.state.images.len() == 2 && a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    assert_eq!(h.state().state.current, Some(0));
    h.get_by_label("image: normal_1.png");
    h.state_mut().select_image(1);
    step_until(&mut h, "the second image current and predicted", |a| {
        a.state.current == Some(1)
            && a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    h.get_by_label("image: pneumonia_1.png");

    h.state_mut().state.gax.max_steps = 12;
    h.get_by_role_and_label(Role::Button, "Run GAX").click();
    h.run_steps(1);
    step_until(&mut h, "a finished 12-step GAX run", |a| {
        !a.state.gax_running() && a.state.current_run().is_some_and(|r| r.steps.len() > 1)
    });
    h.run_steps(2);
    assert_main_flow_visible(&h, screen, "after a GAX run");

    h.get_by_role_and_label(Role::Button, "Run methods").click();
    step_until(&mut h, "six methods' results", |a| {
        a.state.pending.is_empty()
            && a.state.current_entry().is_some_and(|e| e.attributions.len() == 6)
    });
    h.run_steps(3);
    assert_main_flow_visible(&h, screen, "after Run methods");
    assert_tiles_coloured(&mut h, screen);
    // GAX and method heatmaps come from float maths that can round differently on another CPU.
    h.snapshot_options(
        snapshot,
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(4000),
    );
    // At the last step the change maps show the last change (t−1 → t) and say so.
    let last = h.query_all_by_label_contains("the last change").count();
    assert!(last >= 3, "{last} change maps say they show the last change");
    // A click on a tile shows that method in the view with all its channels.
    h.get_by_role_and_label(Role::Image, "DeepLift tile").click();
    h.run_steps(2);
    assert_eq!(
        h.state().state.view,
        heatmap_explorer::ax::HeatmapSource::Method(
            heatmap_explorer::attribution::Method::DeepLift
        )
    );
    let caption = h.state().views.last_explorer().map(|v| v.caption.clone()).unwrap_or_default();
    assert!(caption.starts_with("DeepLift: CO sum"), "{caption}");
    h.get_by_role_and_label(Role::Image, "heatmap B");
    // Loss and similarity on a plot of their own, beside a CO curve that keeps its size.
    h.get_by_label("show loss and similarity").click();
    h.run_steps(2);
    assert_inside("loss curve", h.get_by_label("loss curve").rect(), screen);
    assert!(h.query_all_by_label_contains("loss axis ").count() >= 3, "loss axis ticks");
    assert_main_flow_visible(&h, screen, "with loss and similarity");
    // Focus mode: the overlay large, the other panels in a strip to switch to.
    h.get_by_label("focus").click();
    h.run_steps(2);
    let large = h.get_by_role_and_label(Role::Image, "overlay").rect();
    assert!(large.width() >= 300.0, "focused overlay {large:?}");
    h.get_by_label("focus heatmap R").click();
    h.run_steps(2);
    assert_eq!(h.state().state.panels.focus, "heatmap R");
    let large = h.get_by_role_and_label(Role::Image, "heatmap R").rect();
    assert!(large.width() >= 300.0, "focused heatmap R {large:?}");
}

#[test]
fn laptop_screen_shows_the_main_flow() {
    explorer_on_screen([1366.0, 768.0], "laptop_1366x768");
}

#[test]
fn desktop_screen_shows_the_main_flow() {
    explorer_on_screen([1920.0, 1080.0], "desktop_1920x1080");
}

/// eframe's storage, in memory.
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

fn harness_over(storage: &Memory) -> Harness<'_, App> {
    Harness::builder().with_size([1366.0, 768.0]).build_eframe(|cc| {
        cc.storage = Some(storage);
        App::from_creation(cc, Startup { device: DeviceChoice::Cpu, ..Startup::default() })
            .expect("app")
    })
}

/// A new app over the same storage (a restart) gets back the recent files and the layout.
#[test]
fn restart_restores_recent_files_and_layout() {
    let dir = temp_dir("uisettings");
    let img = random_png(dir.path(), "kept.png", 64, 3);
    let (empty, mut storage) = (Memory::default(), Memory::default());
    let saved = {
        let mut h = harness_over(&empty);
        h.state_mut().open_image(img.clone());
        step_until(&mut h, "the image open", |a| a.state.images.len() == 1);
        h.get_by_label("focus").click();
        h.run_steps(2);
        h.state_mut().state.panels.hidden.insert("change B".to_owned());
        h.state_mut().state.gax.max_steps = 77;
        h.run_steps(1);
        assert_eq!(h.state().state.panels.layout, ViewLayout::Focus);
        let settings = heatmap_explorer::app::settings::Settings::of(&h.state().state);
        eframe::App::save(h.state_mut(), &mut storage);
        settings
    };
    let mut h = harness_over(&storage);
    h.run_steps(2);
    let s = &h.state().state;
    assert_eq!(s.recent.first(), Some(&img), "recent files");
    assert_eq!(s.panels, saved.panels, "grid or focus, the panels shown");
    let close = |a: f32, b: f32| (a - b).abs() < 1.0;
    assert!(close(s.sizes.timeline, saved.sizes.timeline), "{:?} {:?}", s.sizes, saved.sizes);
    assert!(close(s.sizes.controls, saved.sizes.controls), "{:?} {:?}", s.sizes, saved.sizes);
    assert_eq!(s.gax.max_steps, 77, "GAX parameters");
    h.get_by_label("Help (F1)");
    // The saved timeline height is the one drawn after the restart.
    let mut taller = saved.clone();
    taller.sizes.timeline = 330.0;
    let mut storage = Memory::default();
    taller.store(&mut storage);
    let mut h = harness_over(&storage);
    h.run_steps(2);
    let drawn = h.state().state.sizes.timeline;
    assert!((drawn - 330.0).abs() < 1.0, "timeline {drawn}");
}

/// F1 opens the help overlay with the shortcuts and the panels; Esc closes it.
#[test]
fn help_overlay_lists_shortcuts_and_panels() {
    let storage = Memory::default();
    let mut h = harness_over(&storage);
    h.run_steps(1);
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    assert!(h.state().state.help_open);
    h.get_by_label("Shortcuts");
    h.get_by_label("Left / Right");
    h.get_by_label("change R, G, B");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().state.help_open);
    assert!(h.query_by_label("Shortcuts").is_none());
}

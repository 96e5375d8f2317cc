//! Unit tests of the explorer view: a 1-channel heatmap's panels.

use std::sync::Arc;

use super::*;
use crate::app::state::{AttributionResult, ImageEntry};
use crate::attribution::Method;
use crate::gax::compact::CompactHeatmap;
use crate::gax::{GaxConfig, GaxStep};
use crate::io::image::Image;
use crate::io::runfile::{ModelIdentity, RunRecord};

/// A 2×1 grey image with a 1-channel method result and a 1-channel 2-step GAX run.
fn one_channel_state() -> AppState {
    let image = Image { width: 2, height: 1, data: vec![0.5, 0.25, 0.5, 0.25, 0.5, 0.25] };
    let mut e = ImageEntry::new("x.png".into(), Arc::new(image.clone()), 1);
    let result = AttributionResult {
        id: 2,
        target: 7,
        heatmap: Arc::new(vec![0.5, -1.0]),
        raw_abs_max: 1.0,
        co_sum: 1.0,
        co_mult: 2.0,
        zero: false,
    };
    e.attributions.insert(Method::Saliency, result);
    let mut run =
        RunRecord::new(GaxConfig::default(), image, "x".into(), 7, ModelIdentity::default());
    for (step, v) in [0.25_f32, -0.75].into_iter().enumerate() {
        let heatmap = CompactHeatmap::from_f32(1, 2, &[v, 0.5]);
        let abs_max = heatmap.abs_max();
        let (co, loss, similarity, predicted, top) = (1.0, 0.0, 0.0, 7, Vec::new());
        run.push(GaxStep {
            image: 0,
            step,
            co,
            loss,
            similarity,
            abs_max,
            predicted,
            top,
            heatmap,
        });
    }
    e.run = Some(Arc::new(run));
    e.run_id = 3;
    AppState { images: vec![e], current: Some(0), ..AppState::default() }
}

fn names(view: &ExplorerView) -> Vec<&str> {
    view.panels.iter().map(|p| p.name).collect()
}

#[test]
fn a_one_channel_heatmap_shows_one_heatmap_panel_and_one_change_map() {
    let mut s = one_channel_state();
    s.view = HeatmapSource::Method(Method::Saliency);
    s.scale = ScaleMode::Fixed;
    let key = ExplorerKey::of(&s).expect("key");
    let v = build(&s, key).expect("view");
    assert_eq!(v.channels, 1);
    assert_eq!(names(&v), ["image", "heatmap", "overlay", "model input"]);
    assert_eq!(v.panel("heatmap").map(|p| p.values.clone()), Some(vec![0.5, -1.0]));
    // The model input is the grey plane the model saw plus h.
    assert_eq!(v.panel("model input").map(|p| p.values.clone()), Some(vec![1.0, -0.75]));
    s.view = HeatmapSource::Gax;
    s.timeline.selected = 1;
    let v = build(&s, ExplorerKey::of(&s).expect("key")).expect("view");
    assert_eq!(names(&v), PANEL_NAMES_ONE);
    assert_eq!(names(&v), panel_names(1));
    let change = v.panel("change").expect("change");
    assert_eq!(change.values, vec![1.0, 0.0]);
    assert_eq!(change.title, "change (step 0 -> 1, the last change)");
    assert_eq!(panel_names(3), PANEL_NAMES);
}

//! The real app in egui_kittest: regions, accessible labels, snapshots.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::runtime::DeviceChoice;

fn harness() -> Harness<'static, App> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(|cc| App::from_creation(cc, Startup { device: DeviceChoice::Cpu, ..Startup::default() }).expect("app"))
}

#[test]
fn shell_has_four_regions_and_device() {
    let mut h = harness();
    h.run();
    for label in heatmap_explorer::ui::REGION_LABELS {
        h.get_by_label(label);
    }
    h.get_by_label_contains("device: cpu");
    h.snapshot("shell");
}

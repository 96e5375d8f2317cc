//! DICOM reading in the real app (egui_kittest): open a test file (patient name, ID and birth
//! date set), see its facts and presets without identifiers, window it by dragging on the image
//! (the read-out changes live, the model input follows on release and the model predicts
//! again), look at what the model saw, run methods and GAX, export, and find no identifier in
//! any export. Also the frame picker of a multi-frame file.

use egui::{Role, Vec2};
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::attribution::Method;
use heatmap_explorer::input::{self, LoadOptions};
use heatmap_explorer::view_model::window;
use hx_formats::Window;

use crate::dicom::{assert_no_identifiers, dicom_dir, identifiers, manifest, max_abs_diff};
use crate::ui::{harness, small_model, step_until};
use crate::util::temp_dir;

const FILE: &str = "mono2_u12_rescale_2win.dcm";

/// The read-out of the window on show, as the app resolves it.
fn readout(h: &egui_kittest::Harness<'static, heatmap_explorer::app::App>) -> String {
    let d = h.state().current_dicom().expect("a DICOM image");
    d.resolved().expect("window resolves").readout()
}

/// The real app on a 1366×768 laptop screen, on the CPU.
pub(crate) fn laptop() -> egui_kittest::Harness<'static, heatmap_explorer::app::App> {
    egui_kittest::Harness::builder().with_size([1366.0, 768.0]).build_eframe(|cc| {
        let startup = heatmap_explorer::app::Startup {
            device: heatmap_explorer::runtime::DeviceChoice::Cpu,
            ..Default::default()
        };
        heatmap_explorer::app::App::from_creation(cc, startup).expect("app")
    })
}

/// The 1366×768 screen.
pub(crate) fn screen() -> egui::Rect {
    egui::Rect::from_min_size(egui::Pos2::ZERO, Vec2::new(1366.0, 768.0))
}

/// Clicks the control `label` of `role` through the accessibility tree, after checking that it
/// lies on the screen (a click off screen would reach nothing).
pub(crate) fn press(
    h: &mut egui_kittest::Harness<'static, heatmap_explorer::app::App>,
    role: Role,
    label: &str,
) {
    let node = h.get_by_role_and_label(role, label);
    let r = node.rect();
    assert!(screen().contains_rect(r), "{label} at {r:?} is off the 1366×768 screen");
    node.click();
    h.run_steps(2);
}

/// Starts a drag at `start` and moves it through `steps` points `step` apart, a frame each,
/// without releasing it.
pub(crate) fn drag_through(
    h: &mut egui_kittest::Harness<'static, heatmap_explorer::app::App>,
    start: egui::Pos2,
    step: Vec2,
    steps: usize,
) {
    h.hover_at(start);
    h.step();
    h.drag_at(start);
    h.step();
    for k in 1..=steps {
        h.hover_at(start + step * k as f32);
        h.step();
    }
}

#[test]
fn dicom_window_drag_repredicts_and_no_export_holds_identifiers() {
    let dir = temp_dir("uidicom");
    let path = dicom_dir().join(FILE);
    let mut h = laptop();
    h.state_mut().state.methods = vec![Method::Saliency];
    h.state_mut().open_model(small_model());
    h.state_mut().open_image(path.clone());
    step_until(&mut h, "the DICOM file predicted", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some() && e.dicom.is_some())
    });
    // Facts and presets, with their explanations; identifiers only behind "show header".
    for label in ["DX", "CHEST", "PA", "0.2 × 0.25 mm"] {
        h.get_by_label(label);
    }
    h.get_by_label("preset 1: C 1500 W 2000 LINEAR (LUNG)");
    h.get_by_label("preset 2: C 7000 W 800 LINEAR (BONE)");
    h.get_by_label_contains("scale bar: ");
    let ids = identifiers();
    for id in &ids {
        assert_eq!(h.query_all_by_label_contains(id).count(), 0, "{id} shown by default");
    }
    // The checkbox sits below the fold of the controls: scrolled to, then clicked.
    let header = "show header (identifiers included)";
    for on in [true, false] {
        h.get_by_role_and_label(Role::CheckBox, header).scroll_to_me();
        // The scroll lands a few frames later.
        for _ in 0..10 {
            if screen().contains_rect(h.get_by_role_and_label(Role::CheckBox, header).rect()) {
                break;
            }
            h.step();
        }
        press(&mut h, Role::CheckBox, header);
        assert_eq!(h.state().state.reading.show_header, on);
        let listed = h.query_all_by_label_contains(&ids[1]).count();
        assert_eq!(listed >= 1, on, "the header lists the ID only when shown");
    }

    // Drag on the image: right widens, down raises the level; the read-out follows live.
    let before = readout(&h);
    assert!(before.starts_with("W 2000 L 1500"), "{before}");
    assert!(h.query_all_by_label(&format!("window {before}")).count() >= 1);
    let first_image = h.state().state.current_entry().expect("entry").image_id;
    let rect = h.get_by_label("DICOM image (drag: window width and level)").rect();
    assert!(screen().contains_rect(rect), "the image at {rect:?} is on screen");
    let start = rect.center();
    drag_through(&mut h, start, Vec2::new(15.0, 5.0), 4);
    // The read-out is drawn before the drag of the same frame is applied: one frame more.
    h.step();
    let live = readout(&h);
    assert_ne!(live, before, "the read-out changes during the drag");
    assert!(live.contains("custom"), "{live}");
    assert!(h.query_all_by_label(&format!("window {live}")).count() >= 1);
    assert_eq!(
        h.state().current_dicom().map(|d| d.window),
        Some(Window::File),
        "nothing is committed before the release"
    );
    h.drop_at(start + Vec2::new(60.0, 20.0));
    h.step();
    step_until(&mut h, "the model input made again and predicted", |a| {
        a.state.pending.is_empty()
            && a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    let d = h.state().current_dicom().expect("dicom").clone();
    let Window::Custom { center, width } = d.window else { panic!("{:?}", d.window) };
    assert!(width > 2000.0 && center > 1500.0, "right widens and down raises: {center} {width}");
    let e = h.state().state.current_entry().expect("entry");
    assert_ne!(e.image_id, first_image, "a new model input");
    let want =
        input::load_image_with(&path, [256, 256], &LoadOptions { window: d.window, frame: 0 })
            .expect("pipeline");
    assert_eq!(e.image.data, want.data, "the model input is the pipeline's under the new window");

    // What the model saw: the exact input, one grey plane replicated.
    press(&mut h, Role::CheckBox, "what the model saw");
    h.get_by_label("What the model saw");
    h.get_by_label_contains("256 × 256 × 3 channels: one grey plane replicated");
    h.get_by_label_contains("window: W ");

    // Methods, a short GAX run (the pinned buttons), and every export the flow offers (their
    // menu entries ask for a path in a file dialog: the entries' own calls run directly).
    press(&mut h, Role::Button, "Run methods");
    step_until(&mut h, "the method's heatmap", |a| {
        a.state.pending.is_empty()
            && a.state.current_entry().is_some_and(|e| !e.attributions.is_empty())
    });
    assert!(h.query_all_by_label_contains("Saliency: CO sum").count() >= 1);
    h.state_mut().state.gax.max_steps = 2;
    press(&mut h, Role::Button, "Run GAX");
    step_until(&mut h, "a finished GAX run", |a| {
        !a.state.gax_running() && a.state.current_run().is_some_and(|r| r.stop.is_some())
    });
    let out = dir.path();
    let exports = [
        ("overlay.png", "panel"),
        ("heatmap.npy", "heatmap"),
        ("model_input.npy", "input"),
        ("run.gaxrun", "run"),
        ("trace.csv", "trace"),
        ("run.gif", "gif"),
    ];
    for (name, kind) in exports {
        let p = out.join(name);
        let app = h.state_mut();
        match kind {
            "panel" => app.export_panel_png("overlay", &p),
            "heatmap" => app.export_heatmap_npy(&p),
            "input" => app.export_model_input_npy(&p),
            "run" => app.save_run(&p),
            "trace" => app.export_trace_csv(&p),
            _ => app.export_gif(&p),
        }
        step_until(&mut h, name, |a| !a.exports_running());
        assert!(!h.state().state.status.error, "{name}: {}", h.state().state.status.text);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_no_identifiers(name, &bytes);
    }
    let (shape, data) =
        heatmap_explorer::io::npy::read_f32(&out.join("model_input.npy")).expect("model input npy");
    assert_eq!(shape, [3, 256, 256]);
    assert_eq!(data, want.data, "the exported input is what the model got");
}

/// The display windowing equals pydicom's pipeline for every window mode the reference has
/// for the file (through the app's view model, at full resolution).
#[test]
fn display_windowing_matches_pydicom() {
    let m = manifest();
    let dir = dicom_dir();
    let mut checked = 0;
    for c in m["cases"].as_array().expect("cases") {
        let name = c["file"].as_str().expect("file");
        if !["mono2_u12_rescale_2win.dcm", "mono1_u8.dcm", "voi_lut_2_and_window.dcm"]
            .contains(&name)
        {
            continue;
        }
        let bytes = std::fs::read(dir.join(name)).expect("read");
        let file = hx_formats::DicomFile::open(&bytes).expect("open");
        let frame = c["frame"].as_u64().expect("frame") as usize;
        let src = heatmap_explorer::io::dicom::DicomSource::of(&file, frame)
            .expect("values")
            .expect("grayscale");
        let mode: Window = c["window"].as_str().expect("window").parse().expect("parses");
        let r = window::resolve(&src, &mode).expect("resolves");
        let (_, want) =
            heatmap_explorer::io::npy::read_f32(&dir.join(c["expected"].as_str().expect("npy")))
                .expect("npy");
        let diff = max_abs_diff(&window::windowed(&src, &r.voi), &want);
        assert!(diff <= 1e-5, "{name} {mode}: {diff}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} cases");
}

#[test]
fn the_frame_picker_makes_the_input_from_the_chosen_frame() {
    let path = dicom_dir().join("multiframe_u16.dcm");
    let mut h = harness();
    h.state_mut().open_model(small_model());
    h.state_mut().open_image(path.clone());
    step_until(&mut h, "the file predicted", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some() && e.dicom.is_some())
    });
    for want in 1..=2 {
        // The sections above change height while a new input is made: focus again each time.
        h.get_by_role_and_label(Role::Slider, "frame").focus();
        h.run_steps(1);
        h.key_press(egui::Key::ArrowRight);
        h.run_steps(2);
        let d = h.state().current_dicom().expect("dicom");
        assert_eq!(d.frame, want, "pending {:?}", h.state().state.pending);
    }
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !h.state().state.pending.is_empty() && std::time::Instant::now() < end {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let d = h.state().current_dicom().expect("dicom");
    assert_eq!(
        (d.frame, d.source.frame),
        (2, 2),
        "pending {:?}, status {}",
        h.state().state.pending,
        h.state().state.status.text
    );
    step_until(&mut h, "frame 2 predicted", |a| {
        a.state.pending.is_empty()
            && a.current_dicom().is_some_and(|d| d.frame == 2 && d.source.frame == 2)
            && a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    let want =
        input::load_image_with(&path, [256, 256], &LoadOptions { window: Window::File, frame: 2 })
            .expect("frame 2");
    assert_eq!(h.state().state.current_entry().expect("entry").image.data, want.data);
}

/// The README's picture for radiologists: the real NEMA chest CR of pydicom-data (1841×1955, 15
/// bits stored, MONOCHROME1) under the shipped demo model on a 1366×768 screen, windowed by the
/// file's VOI, with its scale bar and Saliency over the full-resolution image.
#[test]
fn the_nema_chest_radiograph_under_the_demo_model() {
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    let mut h = egui_kittest::Harness::builder().with_size([1366.0, 768.0]).build_eframe(|cc| {
        let startup = heatmap_explorer::app::Startup {
            device: heatmap_explorer::runtime::DeviceChoice::Cpu,
            ..Default::default()
        };
        heatmap_explorer::app::App::from_creation(cc, startup).expect("app")
    });
    h.state_mut().open_model(heatmap_explorer::model::ModelSource::Card(card));
    h.state_mut().open_image(dicom_dir().join("RG1_UNCR.dcm"));
    step_until(&mut h, "the chest CR predicted", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some() && e.dicom.is_some())
    });
    h.state_mut().run_methods(vec![Method::Saliency], Default::default());
    step_until(&mut h, "Saliency on the chest CR", |a| {
        a.state.current_entry().is_some_and(|e| e.attributions.contains_key(&Method::Saliency))
    });
    h.run_steps(3);
    h.get_by_label("CR");
    h.snapshot_options(
        "nema_chest_cr",
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(14000),
    );
}

/// A window drag on the 1841×1955 NEMA chest CR shows a subsampled preview while it lasts
/// (cheap to window and upload every frame) and, from the release on, the full-resolution image
/// windowed exactly as the pipeline windows it.
#[test]
fn a_window_drag_previews_and_the_release_shows_the_full_resolution_image() {
    type H = egui_kittest::Harness<'static, heatmap_explorer::app::App>;
    fn shown_size(h: &mut H) -> [usize; 2] {
        let a = h.state_mut();
        a.views.dicom(&a.state).expect("a DICOM view").0.image.size
    }
    let mut h = laptop();
    h.state_mut().open_image(dicom_dir().join("RG1_UNCR.dcm"));
    step_until(&mut h, "the chest CR open", |a| {
        a.current_dicom().is_some() && a.state.pending.is_empty()
    });
    assert_eq!(shown_size(&mut h), [1841, 1955]);
    let rect = h.get_by_label("DICOM image (drag: window width and level)").rect();
    let start = rect.center();
    drag_through(&mut h, start, Vec2::new(12.0, -6.0), 3);
    assert!(h.state().current_dicom().is_some_and(|d| d.drag.is_some()), "dragging");
    assert_eq!(shown_size(&mut h), [461, 489], "every 4th pixel while dragging");
    h.drop_at(start + Vec2::new(40.0, -20.0));
    h.run_steps(2);
    let a = h.state_mut();
    let d = a.current_dicom().cloned().expect("dicom");
    assert!(d.drag.is_none() && matches!(d.window, Window::Custom { .. }), "{:?}", d.window);
    let (view, _) = a.views.dicom(&a.state).expect("view");
    let r = window::resolve(&d.source, &d.window).expect("resolves");
    let want = window::grey_image(
        &window::windowed(&d.source, &r.voi),
        d.source.size(),
        a.state.reading.invert,
    );
    assert_eq!(view.image.size, want.size, "full resolution after the release");
    let differ = view.image.pixels.iter().zip(&want.pixels).filter(|(x, y)| x != y).count();
    assert_eq!(differ, 0, "pixels that differ from the full-resolution windowed image");
}

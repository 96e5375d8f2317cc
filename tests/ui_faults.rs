//! Faults in the real app (egui_kittest): bad files from `tests/data/bad` show errors that stay
//! until dismissed while the app goes on, and a GAX run that runs out of (injected) memory warns
//! and restarts on the CPU with one consistent run.

use egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::runtime::DeviceChoice;

use crate::ui::{harness, small_model, step_until};
use crate::util::{random_png, temp_dir};

#[test]
fn gax_out_of_memory_warns_and_keeps_one_consistent_run() {
    // GAX runs out of (injected) memory at step 2: the status line warns that the job
    // restarted on the CPU, and the run holds the restarted run's steps only, 0 to 4.
    let dir = temp_dir("uioom");
    let img = random_png(dir.path(), "xray.png", 96, 5);
    let faults =
        heatmap_explorer::io::fault::Faults { oom_gax_step: Some(2), ..Default::default() };
    let mut h = Harness::builder().with_size([1280.0, 1100.0]).build_eframe(|cc| {
        let startup =
            Startup { device: DeviceChoice::Cpu, faults: Some(faults), ..Default::default() };
        App::from_creation(cc, startup).expect("app")
    });
    h.state_mut().open_model(small_model());
    h.state_mut().open_image(img);
    step_until(&mut h, "model, image and prediction", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    h.state_mut().state.gax.max_steps = 4;
    h.state_mut().state.gax.target_co = f64::INFINITY;
    h.get_by_role_and_label(Role::Button, "Run GAX").click();
    step_until(&mut h, "the GAX run to end", |a| {
        !a.state.gax_running() && a.state.current_run().is_some_and(|r| r.stop.is_some())
    });
    let status = &h.state().state.status;
    assert!(status.warning && !status.error, "{}", status.text);
    assert!(status.text.contains("restarted on the CPU"), "{}", status.text);
    let run = h.state().state.current_run().expect("run");
    assert_eq!(run.steps.len(), 5, "steps 0 to 4 once each");
    assert_eq!(run.heatmaps.len(), 5);
    h.get_by_label_contains("warning: out of memory (injected");
    h.get_by_role_and_label(Role::Button, "Dismiss").click();
    h.run_steps(2);
    assert!(!h.state().state.status.warning);
    assert!(h.state().state.status.text.contains("GAX: step limit reached"));
}

/// Bad files opened in the GUI: each shows its error, which stays until dismissed, and the app
/// goes on to open a good image.
#[test]
fn bad_files_show_errors_that_stay_until_dismissed() {
    // A few of tests/data/bad's files: images, a run file and a review's saved state.
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad");
    let dir = temp_dir("uibad");
    let good = random_png(dir.path(), "good.png", 64, 9);
    let mut h = harness();
    h.state_mut().open_model(small_model());
    step_until(&mut h, "model", |a| a.state.model.is_some());
    for name in ["empty.png", "text.png", "truncated.png", "bomb.png"] {
        h.state_mut().open_image(bad.join(name));
        step_until(&mut h, "the error", |a| {
            a.state.status.error && a.state.status.text.contains(name)
        });
        h.get_by_label_contains(&format!("error: {}", h.state().state.status.text));
    }
    h.state_mut().open_run(bad.join("run_garbage.run"));
    step_until(&mut h, "the run file read off the UI thread", |a| !a.exports_running());
    h.run_steps(2);
    let status = &h.state().state.status;
    assert!(
        status.error && status.text.contains("run_garbage.run: not a run file"),
        "{}",
        status.text
    );
    // The review of folder `review_version` is saved beside it as review_version.review.json.
    h.state_mut().open_review(bad.join("review_version"));
    step_until(&mut h, "the review opened off the UI thread", |a| !a.review_opening());
    h.run_steps(2);
    let status = &h.state().state.status;
    assert!(
        status.error && status.text.contains("review_version.review.json: review format version 2"),
        "{}",
        status.text
    );
    assert!(h.state().state.review.folder.is_none(), "the review did not open");
    assert!(h.state().state.images.is_empty(), "no bad file became an image");
    // Later news waits behind the error.
    h.state_mut().state.info("something later");
    h.run_steps(2);
    assert!(h.state().state.status.error, "an info message does not hide the error");
    h.get_by_role_and_label(Role::Button, "Dismiss").click();
    h.run_steps(2);
    assert!(!h.state().state.status.error);
    assert_eq!(h.state().state.status.text, "something later");
    h.state_mut().open_image(good);
    step_until(&mut h, "the good image predicted", |a| {
        a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
}

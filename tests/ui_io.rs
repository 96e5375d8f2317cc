//! File work off the UI thread in the real app (egui_kittest): a review folder and GAX run
//! files are read, and runs saved, on background threads. Nothing lands before a frame picks
//! the answer up, frames run while the work is pending, the last open asked for wins, a
//! cancelled open keeps what is on show, and errors stay in the status line.

use egui::Role;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::App;
use heatmap_explorer::app::state::Tab;
use heatmap_explorer::gax::{CompactHeatmap, GaxConfig};
use heatmap_explorer::io::image::Image;
use heatmap_explorer::io::runfile::{ModelIdentity, RunRecord, StepScalars};

use crate::ui::{harness, step_until};
use crate::util::{random_png, temp_dir};

fn status(a: &App) -> (bool, String) {
    (a.state.status.error, a.state.status.text.clone())
}

#[test]
fn review_folders_open_off_the_ui_thread_and_the_last_open_wins() {
    let dir = temp_dir("uiio_review");
    let (a, b, empty) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("empty"));
    for (folder, n) in [(&a, 1), (&b, 2), (&empty, 0)] {
        std::fs::create_dir_all(folder).expect("mkdir");
        for k in 0..n {
            random_png(folder, &format!("{k}.png"), 16, k);
        }
    }
    let mut h = harness();
    h.state_mut().state.tab = Tab::Review;
    h.run_steps(1);
    h.state_mut().open_review(a.clone());
    h.state_mut().open_review(b.clone());
    // Nothing is read on the UI thread: the state changes only when a frame picks up the answer.
    assert!(h.state().review_opening());
    assert!(h.state().state.review.folder.is_none() && h.state().state.review.cases.is_empty());
    h.step();
    step_until(&mut h, "the folder opened", |a| !a.review_opening());
    let r = &h.state().state.review;
    assert_eq!(r.folder.as_deref(), Some(b.as_path()), "the last open asked for wins");
    assert_eq!(r.cases.len(), 2);
    h.get_by_label_contains("2 case(s): 0 reviewed, 0 flagged");

    // A folder with no studies: an error in the status line, the folder on show stays.
    h.state_mut().open_review(empty.clone());
    step_until(&mut h, "the empty folder tried", |a| !a.review_opening());
    let (error, text) = status(h.state());
    assert!(error && text.contains("empty"), "{text}");
    assert_eq!(h.state().state.review.folder.as_deref(), Some(b.as_path()));
    h.get_by_label_contains(&text);

    // While a folder opens, the tab says so and offers to cancel; cancelling keeps folder b.
    h.get_by_role_and_label(Role::Button, "Dismiss").click();
    h.run_steps(1);
    h.state_mut().state.review.opening = Some((u64::MAX, a.clone()));
    h.run_steps(1);
    h.get_by_label_contains("opening ");
    h.get_by_role_and_label(Role::Button, "Cancel opening").click();
    h.run_steps(2);
    assert!(!h.state().review_opening());
    assert_eq!(h.state().state.review.folder.as_deref(), Some(b.as_path()));
    h.get_by_label_contains("2 case(s)");
}

/// A run of `steps` steps on an 8×8 image, as GAX would record it.
fn tiny_run(steps: usize, seed: f32) -> RunRecord {
    let (h, w) = (8, 8);
    let pixels: Vec<f32> = (0..3 * h * w).map(|i| (i as f32 * 0.37 + seed).fract()).collect();
    let image = Image { width: w, height: h, data: pixels };
    let mut run =
        RunRecord::new(GaxConfig::default(), image, "x.png".into(), 1, ModelIdentity::default());
    for s in 0..steps {
        let co = seed + s as f32;
        run.steps.push(StepScalars { co, loss: -co, similarity: 0.5, abs_max: 1.0, predicted: 1 });
        let values: Vec<f32> = (0..3 * h * w).map(|i| ((i + s) % 7) as f32 / 7.0 - 0.5).collect();
        run.heatmaps.push(CompactHeatmap::from_f32(h, w, &values));
    }
    run
}

#[test]
fn run_files_open_and_save_off_the_ui_thread_with_errors_in_the_status_line() {
    let dir = temp_dir("uiio_run");
    let (first, second) = (dir.path().join("first.gaxrun"), dir.path().join("second.gaxrun"));
    let (run1, run2) = (tiny_run(3, 0.0), tiny_run(5, 0.5));
    run1.save(&first).expect("save");
    run2.save(&second).expect("save");
    let bad = dir.path().join("bad.gaxrun");
    std::fs::write(&bad, b"not a run file").expect("write");

    let mut h = harness();
    h.run_steps(1);
    h.state_mut().open_run(first.clone());
    h.state_mut().open_run(second.clone());
    assert!(h.state().exports_running(), "read in the background");
    assert!(h.state().state.images.is_empty(), "nothing read on the UI thread");
    h.step();
    step_until(&mut h, "both runs read", |a| !a.exports_running());
    let s = &h.state().state;
    assert_eq!(s.images.len(), 2);
    assert_eq!(s.current_entry().map(|e| e.path.clone()), Some(second.clone()), "newest shown");
    assert_eq!(s.current_run(), Some(&run2));

    // Saved again through the app: the same run comes back.
    let out = dir.path().join("out.gaxrun");
    h.state_mut().save_run(&out);
    assert!(h.state().exports_running(), "written in the background");
    step_until(&mut h, "the run saved", |a| !a.exports_running());
    let (error, text) = status(h.state());
    assert!(!error && text.contains("run written to"), "{text}");
    assert_eq!(RunRecord::load(&out).expect("saved run"), run2);

    // The whole view as PNG: the screenshot is encoded and written off the UI thread.
    let png = dir.path().join("view.png");
    let ctx = h.ctx.clone();
    h.state_mut().export_view_png(&ctx, &png);
    step_until(&mut h, "the view written", |a| !a.exports_running());
    let (error, text) = status(h.state());
    assert!(!error && text.contains("view written to"), "{text}");
    let (w, _) = image::open(&png).expect("view png").to_rgba8().dimensions();
    assert!(w >= 1280, "the whole window ({w} px wide)");

    // A save cancelled at once either never touches its file or finished before the cancel.
    let cancelled = dir.path().join("stopped.gaxrun");
    h.state_mut().save_run(&cancelled);
    h.state_mut().cancel_exports();
    step_until(&mut h, "the cancelled save ended", |a| !a.exports_running());
    let (error, text) = status(h.state());
    assert!(!error, "{text}");
    assert_eq!(cancelled.exists(), !text.contains("cancelled"), "{text}");

    // A bad run file and a save into a missing folder: errors that stay until dismissed.
    h.state_mut().open_run(bad.clone());
    step_until(&mut h, "the bad file tried", |a| !a.exports_running());
    let (error, text) = status(h.state());
    assert!(error && text.contains("bad.gaxrun"), "{text}");
    assert_eq!(h.state().state.images.len(), 2, "nothing added");
    h.get_by_label_contains("bad.gaxrun");
    h.get_by_role_and_label(Role::Button, "Dismiss").click();
    h.run_steps(1);
    h.state_mut().save_run(&dir.path().join("missing").join("r.gaxrun"));
    step_until(&mut h, "the failed save", |a| !a.exports_running());
    let (error, text) = status(h.state());
    assert!(error && text.contains("missing"), "{text}");
}

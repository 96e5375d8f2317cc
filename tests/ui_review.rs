//! The review tab in the real app (egui_kittest): a folder of studies (a DICOM file with
//! identifiers set, and PNGs) scored in the background, blinded reading with reveal, keyboard
//! navigation, flag, note and reviewed; the app dropped without any save, reopened with the
//! marks intact; the review CSV and the saved state free of identifiers.

use egui::{Role, Vec2};
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::state::Tab;
use heatmap_explorer::attribution::Method;
use heatmap_explorer::review::{CaseStatus, Order};
use hx_formats::Window;

use crate::dicom::{assert_no_identifiers, dicom_dir};
use crate::ui::{harness, small_model, step_until};
use crate::ui_dicom::{drag_through, laptop, press, screen};
use crate::util::{random_png, temp_dir};

#[test]
fn review_marks_survive_dropping_the_app_and_export_without_identifiers() {
    let dir = temp_dir("uireview");
    let folder = dir.path().join("studies");
    std::fs::create_dir_all(folder.join("sub")).expect("mkdir");
    std::fs::copy(dicom_dir().join("mono2_u12_rescale_2win.dcm"), folder.join("a_chest.dcm"))
        .expect("copy");
    random_png(&folder, "b.png", 48, 1);
    random_png(&folder.join("sub"), "c.png", 48, 2);
    std::fs::write(folder.join("notes.txt"), "not an image").expect("write");

    let mut h = harness();
    h.state_mut().open_model(small_model());
    step_until(&mut h, "model", |a| a.state.model.is_some());
    h.get_by_label("Review tab").click();
    h.run_steps(2);
    h.state_mut().state.review.dir = folder.display().to_string();
    h.get_by_role_and_label(Role::Button, "Open folder").click();
    step_until(&mut h, "every case scored", |a| {
        let r = &a.state.review;
        r.cases.len() == 3 && r.job.is_none() && r.cases.iter().all(|c| c.scores.is_some())
    });
    let rels: Vec<String> = h.state().state.review.cases.iter().map(|c| c.rel.clone()).collect();
    assert_eq!(rels, ["a_chest.dcm", "b.png", "sub/c.png"]);
    h.get_by_label_contains("3 case(s): 0 reviewed, 0 flagged");

    // Orderings: the highest score of class 1 first, and the least certain first.
    let by_score = |a: &heatmap_explorer::app::App| {
        a.state
            .review
            .queue()
            .iter()
            .map(|&i| {
                a.state.review.cases[i]
                    .scores
                    .as_ref()
                    .and_then(|s| s.as_ref().ok())
                    .map(|s| s.classes.iter().find(|c| c.class == 1).map_or(0.0, |c| c.prob))
            })
            .collect::<Vec<_>>()
    };
    h.state_mut().state.review.order = Order::Score(1);
    let probs = by_score(h.state());
    assert!(probs.windows(2).all(|w| w[0] >= w[1]), "{probs:?}");
    h.state_mut().state.review.order = Order::Confidence;

    // Blinded: the first case's prediction is hidden until revealed.
    h.get_by_role_and_label(Role::CheckBox, "blinded read").click();
    h.run_steps(2);
    h.key_press(egui::Key::J);
    step_until(&mut h, "the first case on show", |a| {
        a.state.review.current == Some(0)
            && a.state.current_entry().is_some_and(|e| e.dicom.is_some())
    });
    h.get_by_label("prediction and heatmaps hidden (blinded read)");
    assert_eq!(h.query_all_by_label_contains("predicted ").count(), 0);
    assert_eq!(h.query_all_by_label_contains("prediction (top 5)").count(), 0, "controls too");
    h.get_by_label("prediction: hidden (blinded read)");
    h.key_press(egui::Key::V);
    h.run_steps(2);
    h.get_by_label_contains("predicted ");
    assert!(h.query_all_by_label_contains("window W 2000 L 1500").count() >= 1, "windowed");

    // Flag, a note, reviewed: each saved as it happens.
    h.key_press(egui::Key::F);
    h.run_steps(2);
    h.get_by_role(Role::MultilineTextInput).focus();
    h.run_steps(1);
    h.get_by_role(Role::MultilineTextInput).type_text("left apex, faint");
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Mark reviewed (R)").click();
    h.run_steps(3);
    h.key_press(egui::Key::J);
    h.run_steps(2);
    h.key_press(egui::Key::F);
    h.run_steps(2);
    assert_eq!(h.state().state.review.current, Some(1));
    let c0 = h.state().state.review.cases[0].marks.clone();
    assert!(c0.flag && c0.status == CaseStatus::Reviewed, "{c0:?}");
    assert_eq!(c0.note, "left apex, faint");
    assert!(c0.reviewed_at.as_deref().is_some_and(|t| t.ends_with('Z')), "{c0:?}");
    // The saves run on the review writer thread: once it has caught up, the marks are on disk
    // (as a crash at this point would leave them), and the app is dropped as a crash would:
    // no save call, no shutdown hook.
    step_until(&mut h, "the review saved", |a| a.review_writes_pending() == 0);
    let state_file = dir.path().join("studies.review.json");
    let on_disk = std::fs::read_to_string(&state_file).expect("saved state");
    assert!(on_disk.contains("left apex, faint"), "{on_disk}");
    drop(h);
    assert_eq!(std::fs::read_to_string(&state_file).expect("state"), on_disk, "drop wrote nothing");

    let mut h = harness();
    h.state_mut().state.tab = Tab::Review;
    h.state_mut().open_review(folder.clone());
    step_until(&mut h, "the folder opened off the UI thread", |a| !a.review_opening());
    let r = &h.state().state.review;
    assert_eq!(r.current, Some(1), "the reader is back where they stopped");
    assert_eq!(r.cases[0].marks, c0);
    assert!(r.cases[1].marks.flag);
    assert_eq!(r.cases[2].marks, Default::default());
    h.get_by_label_contains("3 case(s): 1 reviewed, 2 flagged");
    let csv_path = dir.path().join("review.csv");
    h.state_mut().export_review_csv(&csv_path);
    step_until(&mut h, "the review CSV written", |a| a.review_writes_pending() == 0);
    h.get_by_label_contains("review written to ");
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "file,status,flag,note,predicted_class,score,reviewed_at");
    assert!(
        lines.iter().any(|l| l.starts_with("a_chest.dcm,reviewed,true,\"left apex, faint\",")),
        "{csv}"
    );
    assert_no_identifiers("review CSV", csv.as_bytes());
    let saved = std::fs::read(&state_file).expect("saved state");
    assert_no_identifiers("review state", &saved);
}

/// The flow on a 1366×768 laptop screen, every control pressed through the
/// accessibility tree (which proves it is on screen): open a folder with a DICOM file (patient
/// name, ID and birth date set) in the Review tab, window the case by dragging on its image,
/// Run methods, flag it, write a note, mark it reviewed and export the review CSV. Neither the
/// CSV nor the saved review state holds an identifier; the image takes most of the tab.
#[test]
fn review_flow_on_a_laptop_through_the_real_controls() {
    let dir = temp_dir("uireviewflow");
    let folder = dir.path().join("studies");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::copy(dicom_dir().join("mono2_u12_rescale_2win.dcm"), folder.join("a_chest.dcm"))
        .expect("copy");
    random_png(&folder, "b.png", 48, 1);

    let mut h = laptop();
    h.state_mut().state.methods = vec![Method::Saliency];
    h.state_mut().open_model(small_model());
    step_until(&mut h, "model", |a| a.state.model.is_some());
    let tab = h.get_by_label("Review tab");
    assert!(screen().contains_rect(tab.rect()), "the tab at {:?}", tab.rect());
    tab.click();
    h.run_steps(2);
    // The folder is typed into the field (a path, not a control to press).
    h.state_mut().state.review.dir = folder.display().to_string();
    press(&mut h, Role::Button, "Open folder");
    step_until(&mut h, "every case scored", |a| {
        let r = &a.state.review;
        r.cases.len() == 2 && r.job.is_none() && r.cases.iter().all(|c| c.scores.is_some())
    });
    let entry = h.get_by_label_contains("a_chest.dcm").rect();
    assert!(screen().contains_rect(entry), "the queue entry at {entry:?}");
    h.get_by_label_contains("a_chest.dcm").click();
    step_until(&mut h, "the DICOM case on show and predicted", |a| {
        a.state.review.current == Some(0)
            && a.state.current_entry().is_some_and(|e| e.dicom.is_some() && e.prediction.is_some())
    });

    // The image takes most of the tab: at least half the screen's width and two thirds of its
    // height go to it.
    let image = h.get_by_label("DICOM image (drag: window width and level)").rect();
    assert!(screen().contains_rect(image), "the image at {image:?}");
    assert!(image.height() >= 0.6 * 768.0 || image.width() >= 0.5 * 1366.0, "{image:?}");

    // Window by dragging on the image; the model input follows on release.
    let start = image.center();
    drag_through(&mut h, start, Vec2::new(15.0, 5.0), 4);
    h.drop_at(start + Vec2::new(60.0, 20.0));
    h.step();
    step_until(&mut h, "the new input predicted", |a| {
        a.state.pending.is_empty()
            && a.state.current_entry().is_some_and(|e| e.prediction.is_some())
    });
    let window = h.state().current_dicom().map(|d| d.window);
    assert!(matches!(window, Some(Window::Custom { .. })), "{window:?}");

    press(&mut h, Role::Button, "Run methods");
    step_until(&mut h, "Saliency on the case", |a| {
        a.state.pending.is_empty()
            && a.state
                .current_entry()
                .is_some_and(|e| e.attributions.contains_key(&Method::Saliency))
    });
    press(&mut h, Role::Button, "Flag (F)");
    assert!(h.state().state.review.cases[0].marks.flag, "flagged");
    h.run_steps(2);
    // The typed folder path differs on every run: shown as a fixed name for the snapshot.
    h.state_mut().state.review.dir = "studies".into();
    h.run_steps(3);
    h.snapshot_options(
        "review_laptop_1366x768",
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(4000),
    );

    let note = h.get_by_role(Role::MultilineTextInput);
    assert!(screen().contains_rect(note.rect()), "the note at {:?}", note.rect());
    note.focus();
    h.run_steps(1);
    h.get_by_role(Role::MultilineTextInput).type_text("right base, check");
    h.run_steps(1);
    press(&mut h, Role::Button, "Mark reviewed (R)");
    press(&mut h, Role::Button, "Export review CSV");
    step_until(&mut h, "the review CSV written", |a| a.review_writes_pending() == 0);
    h.get_by_label_contains("review written to ");

    let csv_path = heatmap_explorer::app::review::csv_beside(&folder);
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    assert!(
        csv.lines().any(|l| l.starts_with("a_chest.dcm,reviewed,true,\"right base, check\",")),
        "{csv}"
    );
    assert_no_identifiers("review CSV", csv.as_bytes());
    let saved = std::fs::read(dir.path().join("studies.review.json")).expect("saved state");
    assert_no_identifiers("review state", &saved);
    assert!(String::from_utf8_lossy(&saved).contains("right base, check"));
}

/// A review state that cannot be saved (a folder where its file belongs) is an error in the
/// status line that stays, through later messages, until dismissed; the marks stay in the app.
#[test]
fn a_failed_review_save_stays_in_the_status_line_until_dismissed() {
    let dir = temp_dir("uireviewfail");
    let folder = dir.path().join("studies");
    std::fs::create_dir_all(&folder).expect("mkdir");
    random_png(&folder, "a.png", 32, 1);
    let mut h = laptop();
    h.state_mut().state.tab = Tab::Review;
    h.state_mut().open_review(folder.clone());
    step_until(&mut h, "the folder opened off the UI thread", |a| !a.review_opening());
    // Once open, the state file's place is taken by a folder: the atomic rename onto it fails.
    std::fs::create_dir_all(dir.path().join("studies.review.json")).expect("mkdir");
    h.key_press(egui::Key::J);
    h.run_steps(2);
    press(&mut h, Role::Button, "Flag (F)");
    step_until(&mut h, "the saves tried", |a| a.review_writes_pending() == 0);
    h.run_steps(2);
    let s = &h.state().state.status;
    assert!(s.error && s.text.contains("could not be saved"), "{}", s.text);
    assert!(h.state().state.review.cases[0].marks.flag, "the mark stays in the app");
    // A later message waits behind the error.
    press(&mut h, Role::Button, "Export review CSV");
    step_until(&mut h, "the CSV written", |a| a.review_writes_pending() == 0);
    h.run_steps(5);
    h.get_by_label_contains("could not be saved");
    press(&mut h, Role::Button, "Dismiss");
    assert!(!h.state().state.status.error);
    h.get_by_label_contains("review written to ");
}

//! The dataset tab's "Demo data" button in the real app: seeded phantoms written into the data
//! folder, both shipped models scoring them on the worker, their gap tables side by side.

use egui::Role;
use egui_kittest::kittest::Queryable as _;
use heatmap_explorer::app::state::Tab;
use heatmap_explorer::attribution::Method;
use heatmap_explorer::model::ModelSource;

use heatmap_explorer::app::{App, Startup};
use heatmap_explorer::runtime::DeviceChoice;

use crate::ui::step_until;
use crate::util::temp_dir;

#[test]
fn demo_data_shows_the_gap_of_both_shipped_models() {
    let dir = temp_dir("uidemo");
    // A file of the user's where the demo folder would go: it is left alone.
    let taken = dir.path().join("demo_phantoms_16_seed2027");
    std::fs::create_dir_all(&taken).expect("mkdir");
    std::fs::write(taken.join("notes.txt"), "mine").expect("write");
    let mut h = egui_kittest::Harness::builder().with_size([1366.0, 768.0]).build_eframe(|cc| {
        App::from_creation(cc, Startup { device: DeviceChoice::Cpu, ..Startup::default() })
            .expect("app")
    });
    h.run();
    h.get_by_label("Dataset tab").click();
    h.run_steps(2);
    assert_eq!(h.state().state.tab, Tab::Dataset);
    {
        // Lean for CI: 16 phantoms, one method (the default is 400 and all six).
        let demo = &mut h.state_mut().state.demo;
        demo.root = dir.path().to_path_buf();
        demo.count = 16;
        demo.methods = vec![Method::Saliency];
    }
    h.run_steps(1);
    h.get_by_label_contains(&format!("into {}", dir.path().display()));
    h.get_by_role_and_label(Role::Button, "Demo data").click();
    h.run_steps(1);
    assert!(h.state().state.demo.job.is_some(), "the demo runs on the worker");
    step_until(&mut h, "both shipped models' demo results", |a| {
        a.state.demo.results.len() == 2 && a.state.demo.job.is_none()
    });
    h.run_steps(2);
    assert!(!h.state().state.status.error, "{}", h.state().state.status.text);
    assert_eq!(std::fs::read_to_string(taken.join("notes.txt")).expect("read"), "mine");
    let folder = dir.path().join("demo_phantoms_16_seed2027_2");
    let count = |class: &str| std::fs::read_dir(folder.join(class)).map_or(0, Iterator::count);
    assert_eq!((count("NORMAL"), count("PNEUMONIA")), (8, 8));
    assert_eq!(h.state().state.dataset.dir, folder.display().to_string());
    if let Ok(p) = std::env::var("DEMO_RENDER") {
        h.render().expect("render").save(p).expect("save");
    }
    let results = h.state().state.demo.results.clone();
    for (r, name) in results.iter().zip(["well-trained", "under-trained"]) {
        assert_eq!((r.name.as_str(), r.summary.images), (name, 16));
        // The table on screen shows this model's numbers.
        h.get_by_label_contains(&format!("gap table: {name} model"));
        let line = format!(
            "accuracy {:.3} on 16 phantoms: {} correct, {} wrong",
            r.summary.accuracy, r.summary.groups[0].correct.count, r.summary.groups[0].wrong.count
        );
        assert!(h.query_all_by_label(&line).count() >= 1, "{name}: {line:?} is not shown");
        let sum = r
            .summary
            .groups
            .iter()
            .find(|g| g.method.name() == "Saliency" && g.variant.name() == "sum")
            .expect("Saliency sum");
        assert!(sum.correct.median.is_finite(), "{name}: no correct prediction");
        let median = format!("{:.3}", sum.correct.median);
        assert!(h.query_all_by_label(&median).count() >= 1, "{name}: {median} is not shown");
    }
    // The under-trained model is the less accurate one, as the shipped cards say.
    assert!(results[0].summary.accuracy >= results[1].summary.accuracy);
    // A second press reuses the phantoms and resumes the CSVs: no second folder.
    h.get_by_role_and_label(Role::Button, "Demo data").click();
    h.run_steps(1);
    assert!(h.state().state.demo.job.is_some() && h.state().state.demo.results.is_empty());
    step_until(&mut h, "the demo again", |a| {
        a.state.demo.results.len() == 2 && a.state.demo.job.is_none()
    });
    // The same numbers from the same files (compared as text: an empty group's median is NaN).
    let again = &h.state().state.demo.results;
    assert_eq!(format!("{again:?}"), format!("{results:?}"));
    assert!(!dir.path().join("demo_phantoms_16_seed2027_3").exists());
    // The folder now holds the demo's phantoms: a run of the tab's own on it, with the demo
    // folded away, shows its box plots whole on the laptop screen.
    let card =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json");
    h.state_mut().open_model(ModelSource::Card(card));
    step_until(&mut h, "model", |a| a.state.model.is_some());
    h.state_mut().state.methods = vec![Method::Saliency, Method::DeepLift];
    h.get_by_role_and_label(Role::Button, "Run on folder").click();
    step_until(&mut h, "dataset summary", |a| a.state.dataset.summary.is_some());
    h.get_by_label_contains("Demo: the paper's gap").click();
    h.run_steps(3);
    h.get_by_label("Statistics");
    // The CO values differ in their fourth digit between CPUs (MKL's kernels), which moves the
    // plots' fine lines by a pixel, and the temporary folder's name differs per run.
    h.snapshot_options(
        "dataset_1366x768",
        &egui_kittest::SnapshotOptions::new().threshold(4.0).max_failed_pixels(14000),
    );
}

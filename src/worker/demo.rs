//! The demo data job: seeded phantoms written into a fresh folder of the user's data folder
//! (never over anything already there), then scored by each shipped model in turn, so the
//! paper's correct/wrong gap of a well-trained and an under-trained model can be compared on
//! the same images. Runs on the worker thread; the models it loads are its own and are dropped
//! when it ends, so the user's model stays loaded.

use std::path::{Path, PathBuf};

use super::protocol::{Event, JobId, Recovery};
use crate::attribution::Method;
use crate::dataset::{Progress, RunOptions, Summary};
use crate::error::{Error, Result};
use crate::model::{Model, ModelSource};
use crate::runtime::DeviceChoice;

/// The file inside a demo folder that marks it as one and says what it holds; a folder with
/// this name but without the marker (or with another content) is never written into.
pub const MARKER: &str = ".heatmap-explorer-demo";

/// What the demo generates and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    /// The user's data folder; the demo folder and its CSVs go inside it.
    pub root: PathBuf,
    /// Phantoms to generate (half of them PNEUMONIA).
    pub count: usize,
    /// Their seed.
    pub seed: u64,
    /// The models to score with, each with the name the tables show, in order.
    pub models: Vec<(String, PathBuf)>,
    /// The methods scored (both variants).
    pub methods: Vec<Method>,
    /// Images per batch.
    pub batch: usize,
    /// The device the models are loaded on.
    pub device: DeviceChoice,
}

/// Where a demo job is.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoStage {
    /// Writing `count` phantoms into `folder`.
    Generating {
        /// The demo folder.
        folder: PathBuf,
        /// How many.
        count: usize,
    },
    /// Scoring the demo folder with model `model`.
    Scoring {
        /// The demo folder.
        folder: PathBuf,
        /// The model's index in [`DemoSpec::models`].
        model: usize,
        /// Its name.
        name: String,
        /// Images done so far (`None` while the model loads).
        progress: Option<Progress>,
    },
}

/// One model's statistics over the demo folder.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoResult {
    /// The model's index in [`DemoSpec::models`].
    pub model: usize,
    /// Its name.
    pub name: String,
    /// Its model card's file name.
    pub card: String,
    /// The demo folder.
    pub folder: PathBuf,
    /// The CSV of its rows.
    pub csv: PathBuf,
    /// Its statistics.
    pub summary: Summary,
}

/// The marker text of a demo folder of `count` phantoms from `seed`.
fn marker_text(count: usize, seed: u64) -> String {
    format!("heatmap-explorer phantom --count {count} --seed {seed}\n")
}

/// The demo folder for `count` phantoms from `seed` under `root`, and whether it already holds
/// them: `demo_phantoms_<count>_seed<seed>` (or `_2`, `_3`, … when a folder of that name holds
/// anything else).
pub fn demo_folder(root: &Path, count: usize, seed: u64) -> (PathBuf, bool) {
    let base = format!("demo_phantoms_{count}_seed{seed}");
    let expected = marker_text(count, seed);
    for i in 1_usize.. {
        let name = if i == 1 { base.clone() } else { format!("{base}_{i}") };
        let dir = root.join(name);
        if !dir.exists() {
            return (dir, false);
        }
        if std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|m| m == expected) {
            return (dir, true);
        }
    }
    unreachable!("an unbounded range always yields a free name")
}

/// Writes the phantoms into a hidden folder beside `folder`, then renames it into place (a
/// rename never replaces a folder that appeared meanwhile), so `folder` is whole or absent.
fn generate(
    folder: &Path,
    count: usize,
    seed: u64,
    cancel: &(dyn Fn() -> bool + Sync),
) -> Result<()> {
    let parent = folder.parent().ok_or_else(|| Error::invalid("the demo folder has no parent"))?;
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = parent.join(format!(".{name}.partial-{}-{nanos}", std::process::id()));
    let opts =
        crate::phantom::PhantomOptions { count, seed, splits: Vec::new(), pneumonia_fraction: 0.5 };
    let written = crate::phantom::write_dataset_until(&tmp, &opts, cancel).and_then(|_| {
        let marker = tmp.join(MARKER);
        std::fs::write(&marker, marker_text(count, seed)).map_err(|e| Error::io(&marker, e))?;
        std::fs::rename(&tmp, folder).map_err(|e| Error::io(folder, e))
    });
    if written.is_err() {
        // Only the hidden folder this call created is removed.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written
}

/// The CSV model `name` writes for the demo folder: beside it, named after both and a hash of
/// the methods and batch, so a rerun with the same settings resumes it.
fn csv_path(folder: &Path, stem: &str, methods: &[Method], batch: usize) -> PathBuf {
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    let digest: String =
        crate::model::text_hash(&format!("{}|{batch}", names.join(","))).chars().take(8).collect();
    let folder_name =
        folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    folder.with_file_name(format!("{folder_name}_{stem}_{digest}.csv"))
}

/// Runs the demo job, sending its events through `emit` (false: the UI has gone).
pub fn run(
    job: JobId,
    spec: &DemoSpec,
    emit: &dyn Fn(Event) -> bool,
    cancel: &(dyn Fn() -> bool + Sync),
) -> Result<()> {
    if spec.models.is_empty() || spec.methods.is_empty() {
        return Err(Error::invalid("the demo needs at least one model and one method"));
    }
    let (folder, ready) = demo_folder(&spec.root, spec.count, spec.seed);
    if !ready {
        let stage = DemoStage::Generating { folder: folder.clone(), count: spec.count };
        if !emit(Event::DemoProgress { job, stage }) {
            return Ok(());
        }
        generate(&folder, spec.count, spec.seed, cancel)?;
    }
    let mut device = spec.device.resolve()?;
    for (index, (name, card)) in spec.models.iter().enumerate() {
        if cancel() {
            return Err(Error::Cancelled);
        }
        let scoring = |progress| DemoStage::Scoring {
            folder: folder.clone(),
            model: index,
            name: name.clone(),
            progress,
        };
        emit(Event::DemoProgress { job, stage: scoring(None) });
        let model = Model::load(&ModelSource::Card(card.clone()), device)?;
        let stem = card.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let opts = RunOptions {
            methods: spec.methods.clone(),
            batch: spec.batch,
            shard: None,
            out: csv_path(&folder, &stem, &spec.methods, spec.batch),
            gax_steps: 0,
            load: crate::input::LoadOptions::default(),
            overwrite: false,
            target: None,
            labels_csv: None,
        };
        let mut progress = |p| {
            emit(Event::DemoProgress { job, stage: scoring(Some(p)) });
        };
        let scored = crate::dataset::run_with_rows(&model, &folder, &opts, &mut progress, &cancel);
        let (summary, _) = match scored {
            // Even one image does not fit: this model and the next ones go to the CPU, and the
            // scoring resumes there from the rows already in its CSV.
            Err(e) if super::run::falls_back(device, &e) => {
                drop(model);
                let cpu = Model::load(&ModelSource::Card(card.clone()), tch::Device::Cpu)?;
                let message = format!(
                    "{e} on {}: the demo's {name} moved to the CPU and its scoring resumed there \
                     (slower)",
                    crate::runtime::describe_device(device)
                );
                device = tch::Device::Cpu;
                let recovery =
                    Recovery::Cpu { device: crate::runtime::describe_device(tch::Device::Cpu) };
                emit(Event::OutOfMemory { job, recovery, message });
                crate::io::fault::without_oom(|| {
                    crate::dataset::run_with_rows(&cpu, &folder, &opts, &mut progress, &cancel)
                })?
            }
            scored => scored?,
        };
        let result = DemoResult {
            model: index,
            name: name.clone(),
            card: card.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            folder: folder.clone(),
            csv: opts.out,
            summary,
        };
        if !emit(Event::DemoModelDone { job, result: Box::new(result) }) {
            return Ok(());
        }
    }
    emit(Event::Finished { job });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_folders_never_take_a_foreign_folder() {
        let root = tempfile::tempdir().expect("dir");
        let (first, ready) = demo_folder(root.path(), 8, 3);
        assert!(!ready && first.ends_with("demo_phantoms_8_seed3"));
        // A folder of that name the user made: left alone, the next name is used.
        std::fs::create_dir_all(&first).expect("mkdir");
        std::fs::write(first.join("mine.txt"), "x").expect("write");
        let (second, ready) = demo_folder(root.path(), 8, 3);
        assert!(!ready && second.ends_with("demo_phantoms_8_seed3_2"));
        // A finished demo folder is reused.
        generate(&second, 8, 3, &|| false).expect("generate");
        assert_eq!(demo_folder(root.path(), 8, 3), (second.clone(), true));
        assert_eq!(std::fs::read_to_string(first.join("mine.txt")).expect("read"), "x");
        let pngs = |class: &str| std::fs::read_dir(second.join(class)).map_or(0, Iterator::count);
        assert_eq!((pngs("NORMAL"), pngs("PNEUMONIA")), (4, 4));
        // Another count or seed gets a folder of its own.
        assert!(!demo_folder(root.path(), 9, 3).1 && !demo_folder(root.path(), 8, 4).1);
        // A cancelled generation leaves no folder and no hidden leftovers.
        let third = root.path().join("cancelled");
        assert!(matches!(generate(&third, 4, 3, &|| true), Err(Error::Cancelled)));
        let left: Vec<_> = std::fs::read_dir(root.path()).expect("ls").collect();
        assert_eq!(left.len(), 2, "only the two demo folders remain");
    }

    #[test]
    fn out_of_memory_moves_the_demo_to_the_cpu_with_a_clean_runs_rows() {
        let models = vec![(
            "well-trained".to_owned(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/phantom_squeezenet.json"),
        )];
        let spec = |root: &Path| DemoSpec {
            root: root.into(),
            count: 4,
            seed: 5,
            models: models.clone(),
            methods: vec![Method::Saliency],
            batch: 4,
            device: DeviceChoice::Cpu,
        };
        let demo = |root: &Path| {
            let events = std::sync::Mutex::new(Vec::new());
            run(
                JobId(1),
                &spec(root),
                &|ev| {
                    events.lock().is_ok_and(|mut v| {
                        v.push(ev);
                        true
                    })
                },
                &|| false,
            )
            .expect("demo");
            events.into_inner().expect("events")
        };
        let csv = |events: &[Event]| {
            let done = events.iter().find_map(|e| match e {
                Event::DemoModelDone { result, .. } => Some(result.csv.clone()),
                _ => None,
            });
            std::fs::read(done.expect("a model done")).expect("csv")
        };
        let clean = tempfile::tempdir().expect("dir");
        let clean_events = demo(clean.path());
        assert!(!clean_events.iter().any(|e| matches!(e, Event::OutOfMemory { .. })));
        // Not even one image fits: the scoring moves to the CPU, says so, and ends as a clean run.
        let faulty = tempfile::tempdir().expect("dir");
        crate::io::fault::set_for_thread(crate::io::fault::Faults {
            oom_above_batch: Some(0),
            ..Default::default()
        });
        let events = demo(faulty.path());
        crate::io::fault::set_for_thread(crate::io::fault::Faults::default());
        assert!(
            events.iter().any(|e| matches!(e, Event::OutOfMemory {
                recovery: Recovery::Cpu { .. }, message, ..
            } if message.contains("moved to the CPU"))),
            "{events:?}"
        );
        assert!(matches!(events.last(), Some(Event::Finished { .. })), "{events:?}");
        assert_eq!(csv(&events), csv(&clean_events));
    }
}

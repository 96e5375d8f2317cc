//! The worker thread: protocol, cancel within one step, shutdown on drop, out-of-memory
//! recovery (batch split, CPU fallback) through injected faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use heatmap_explorer::attribution::Method;
use heatmap_explorer::gax::GaxConfig;
use heatmap_explorer::io::fault::Faults;
use heatmap_explorer::io::image::Image;
use heatmap_explorer::model::{Arch, ModelSource, Normalize};
use heatmap_explorer::runtime::DeviceChoice;
use heatmap_explorer::worker::{Command, Event, JobId, Recovery, WorkerHandle};

use crate::util::{random_png, temp_dir};

fn spawn() -> (WorkerHandle, Arc<AtomicUsize>) {
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&wakes);
    let handle = WorkerHandle::spawn(Arc::new(move || {
        w.fetch_add(1, Ordering::SeqCst);
    }))
    .expect("spawn");
    (handle, wakes)
}

fn load_small(h: &mut WorkerHandle) {
    let info = load_random(h, Arch::Squeezenet1_1, 2, Normalize::None);
    assert_eq!(info.classes, 2);
}

/// Loads a seeded random model of `arch` in the worker and returns what it is.
fn load_random(
    h: &mut WorkerHandle,
    arch: Arch,
    classes: i64,
    normalize: Normalize,
) -> heatmap_explorer::model::ModelInfo {
    let job = h.next_job();
    let source = ModelSource::Random { arch, classes, normalize, seed: 1 };
    h.send(Command::LoadModel { job, source, device: DeviceChoice::Cpu }).expect("send");
    match h.recv_timeout(Duration::from_secs(60)) {
        Some(Event::ModelLoaded { job: j, info, .. }) => {
            assert_eq!(j, job);
            info
        }
        other => panic!("expected ModelLoaded, got {other:?}"),
    }
}

fn image() -> Arc<Image> {
    let n = 3 * 96 * 96;
    Arc::new(Image {
        width: 96,
        height: 96,
        data: (0..n).map(|i| ((i * 37) % 101) as f32 / 100.0).collect(),
    })
}

#[test]
fn shutdown_on_drop_is_prompt() {
    let (h, _) = spawn();
    assert!(h.is_alive());
    let t = Instant::now();
    drop(h);
    assert!(t.elapsed() < Duration::from_secs(1), "drop took {:?}", t.elapsed());
}

#[test]
fn failures_are_events_not_crashes() {
    let (mut h, wakes) = spawn();
    let job = h.next_job();
    h.send(Command::Predict { job, image: image(), top_k: 5 }).expect("send");
    match h.recv_timeout(Duration::from_secs(10)) {
        Some(Event::Failed { job: j, message }) => {
            assert_eq!(j, job);
            assert!(message.contains("no model"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let job = h.next_job();
    h.send(Command::LoadImage {
        job,
        path: "/nonexistent.png".into(),
        size: Some([64, 64]),
        options: Default::default(),
    })
    .expect("send");
    assert!(matches!(h.recv_timeout(Duration::from_secs(10)), Some(Event::Failed { .. })));
    assert!(wakes.load(Ordering::SeqCst) >= 2, "every event wakes the UI");
    assert!(h.is_alive());
}

#[test]
fn gax_streams_and_cancel_stops_within_one_step() {
    let (mut h, _) = spawn();
    load_small(&mut h);
    let job = h.next_job();
    let config = GaxConfig { max_steps: 10_000, target_co: f64::INFINITY, ..GaxConfig::default() };
    h.send(Command::StartGax { job, images: vec![image()], labels: vec![0], config })
        .expect("send");
    let mut steps = 0;
    while steps < 3 {
        match h.recv_timeout(Duration::from_secs(30)) {
            Some(Event::GaxStep { step, .. }) => {
                assert_eq!(step.step, steps);
                assert_eq!(step.heatmap.data.len(), 3 * 96 * 96);
                steps += 1;
            }
            other => panic!("expected a step, got {other:?}"),
        }
    }
    h.cancel(job);
    let mut after = 0;
    loop {
        match h.recv_timeout(Duration::from_secs(30)) {
            Some(Event::GaxStep { .. }) => after += 1,
            Some(Event::GaxFinished { outcome, .. }) => {
                assert_eq!(outcome[0].0, heatmap_explorer::gax::StopReason::Cancelled);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(after <= 1, "{after} steps arrived after cancel");
    // A new job runs right after.
    let job2 = h.next_job();
    let config = GaxConfig { max_steps: 2, target_co: f64::INFINITY, ..GaxConfig::default() };
    h.send(Command::StartGax { job: job2, images: vec![image()], labels: vec![1], config })
        .expect("send");
    let mut n = 0;
    loop {
        match h.recv_timeout(Duration::from_secs(30)) {
            Some(Event::GaxStep { job: j, .. }) if j == job2 => n += 1,
            Some(Event::GaxFinished { job: j, .. }) if j == job2 => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(n, 3);
}

#[test]
fn drop_mid_run_joins_within_a_second() {
    let (mut h, _) = spawn();
    load_small(&mut h);
    let job = h.next_job();
    let config = GaxConfig { max_steps: 100_000, target_co: f64::INFINITY, ..GaxConfig::default() };
    h.send(Command::StartGax { job, images: vec![image()], labels: vec![0], config })
        .expect("send");
    assert!(matches!(h.recv_timeout(Duration::from_secs(30)), Some(Event::GaxStep { .. })));
    let t = Instant::now();
    drop(h);
    assert!(t.elapsed() < Duration::from_secs(1), "drop mid-run took {:?}", t.elapsed());
}

#[test]
fn a_panic_inside_the_worker_is_reported_and_the_next_command_runs() {
    let (mut h, _) = spawn();
    load_small(&mut h);
    // Pixel data that does not fit the declared size makes libtorch's `view` panic.
    let broken = Arc::new(Image { width: 96, height: 96, data: vec![0.5; 7] });
    let job = h.next_job();
    h.send(Command::Predict { job, image: broken, top_k: 2 }).expect("send");
    match h.recv_timeout(Duration::from_secs(30)) {
        Some(Event::Failed { job: j, message }) => {
            assert_eq!(j, job);
            assert!(message.contains("internal failure"), "{message}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(h.is_alive(), "the worker survives the panic");
    let job = h.next_job();
    h.send(Command::Predict { job, image: image(), top_k: 2 }).expect("send");
    match h.recv_timeout(Duration::from_secs(30)) {
        Some(Event::Prediction { job: j, .. }) => assert_eq!(j, job),
        other => panic!("expected a prediction, got {other:?}"),
    }
}

#[test]
fn a_one_channel_multilabel_model_runs_methods_and_gax_through_the_worker() {
    let (mut h, _) = spawn();
    let info = load_random(&mut h, Arch::XrvDensenet121, 18, Normalize::Xrv);
    assert_eq!((info.channels, info.multilabel, info.classes), (1, true, 18));
    let job = h.next_job();
    h.send(Command::Predict { job, image: image(), top_k: 3 }).expect("send");
    match h.recv_timeout(Duration::from_secs(60)) {
        Some(Event::Prediction { top, .. }) => {
            for c in &top {
                assert!((c.prob - 1.0 / (1.0 + (-c.logit).exp())).abs() < 1e-5, "sigmoid: {c:?}");
            }
        }
        other => panic!("expected Prediction, got {other:?}"),
    }
    let job = h.next_job();
    let methods = vec![heatmap_explorer::attribution::Method::DeepLift];
    let options = Default::default();
    let cmd = Command::Attribute {
        job,
        image: image(),
        methods,
        target: Some(7),
        label: Some(7),
        options,
    };
    h.send(cmd).expect("send");
    match h.recv_timeout(Duration::from_secs(60)) {
        Some(Event::Attribution { heatmap, co_sum, .. }) => {
            let n = 96 * 96;
            assert_eq!(heatmap.len(), n, "one plane for a 1-channel model");
            assert!(co_sum.is_finite());
        }
        other => panic!("expected Attribution, got {other:?}"),
    }
    let job = h.next_job();
    let config = GaxConfig { max_steps: 2, target_co: f64::INFINITY, ..GaxConfig::default() };
    h.send(Command::StartGax { job, images: vec![image()], labels: vec![7], config })
        .expect("send");
    let mut steps = 0;
    loop {
        match h.recv_timeout(Duration::from_secs(60)) {
            Some(Event::GaxStep { step, .. }) => {
                assert_eq!(step.heatmap.channels(), 1);
                steps += 1;
            }
            Some(Event::GaxFinished { .. }) => break,
            Some(Event::Finished { .. }) => {}
            other => panic!("expected GAX events, got {other:?}"),
        }
    }
    assert_eq!(steps, 3);
}

/// A worker whose out-of-memory faults are injected (on the CPU they stand for a GPU's).
fn spawn_faulty(faults: Faults) -> WorkerHandle {
    WorkerHandle::spawn_with_faults(Arc::new(|| {}), Some(faults)).expect("spawn")
}

/// Every event of `job` up to its last (`GaxFinished`, `Finished`, `DatasetDone`); a failure
/// fails the test.
fn job_events(h: &WorkerHandle, job: JobId) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        let ev = h.recv_timeout(Duration::from_secs(120)).expect("an event within 120 s");
        assert_eq!(ev.job(), job, "{ev:?}");
        let last = matches!(
            ev,
            Event::GaxFinished { .. } | Event::Finished { .. } | Event::DatasetDone { .. }
        );
        assert!(!matches!(ev, Event::Failed { .. }), "{ev:?}");
        out.push(ev);
        if last {
            return out;
        }
    }
}

/// The CPU fallback's event, if it is the `at`-th event: its message.
fn cpu_fallback(events: &[Event], at: usize) -> &str {
    match events.get(at) {
        Some(Event::OutOfMemory { recovery: Recovery::Cpu { device }, message, .. }) => {
            assert!(device.starts_with("cpu"), "{device}");
            assert!(message.contains("injected") && message.contains("restarted"), "{message}");
            message
        }
        other => panic!("expected the CPU fallback as event {at}, got {other:?}"),
    }
}

/// (step, CO, loss, heatmap) of the GAX steps among `events`.
fn gax_steps(events: &[Event]) -> Vec<(usize, f32, f32, Vec<f32>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::GaxStep { step, .. } => {
                Some((step.step, step.co, step.loss, step.heatmap.to_f32()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn gax_methods_and_scoring_out_of_memory_restart_on_the_cpu_with_a_clean_runs_numbers() {
    let faults = Faults { oom_gax_step: Some(2), oom_attribute: true, ..Faults::default() };
    let dir = temp_dir("worker-oom-cases");
    let files: Vec<(usize, std::path::PathBuf)> =
        (0..2).map(|i| (i, random_png(dir.path(), &format!("{i}.png"), 64, i as u64))).collect();
    let (mut clean, _) = spawn();
    let mut faulty = spawn_faulty(faults);
    let mut results = Vec::new();
    for h in [&mut clean, &mut faulty] {
        load_small(h);
        let job = h.next_job();
        let config = GaxConfig { max_steps: 4, target_co: f64::INFINITY, ..GaxConfig::default() };
        h.send(Command::StartGax { job, images: vec![image()], labels: vec![0], config })
            .expect("send");
        let gax = job_events(h, job);
        let job = h.next_job();
        let methods = vec![Method::Saliency, Method::InputXGradient];
        let (target, label, options) = (Some(1), Some(1), Default::default());
        h.send(Command::Attribute { job, image: image(), methods, target, label, options })
            .expect("send");
        let attributions = job_events(h, job);
        // Review scoring with a CO method runs an attribution per file.
        let job = h.next_job();
        let (files, co_method) = (files.clone(), Some(Method::Saliency));
        h.send(Command::ScoreFiles { job, files, co_method }).expect("send");
        results.push((gax, attributions, job_events(h, job)));
    }
    let [(gax, methods, cases), (faulty_gax, faulty_methods, faulty_cases)] = &results[..] else {
        unreachable!()
    };
    // GAX: steps 0 and 1, the fallback at step 2, then the whole run again on the CPU.
    let clean_steps = gax_steps(gax);
    assert_eq!(clean_steps.len(), 5);
    let streamed = gax_steps(faulty_gax);
    assert_eq!(streamed.iter().map(|s| s.0).collect::<Vec<_>>(), [0, 1, 0, 1, 2, 3, 4]);
    cpu_fallback(faulty_gax, 2);
    assert_eq!(streamed[..2], clean_steps[..2], "the steps before the fault");
    assert_eq!(streamed[2..], clean_steps[..], "the restarted run is the clean run");
    let outcome = |evs: &[Event]| match evs.last() {
        Some(Event::GaxFinished { outcome, .. }) => outcome.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(outcome(faulty_gax), outcome(gax));
    // Methods: the fallback first, then each method as in the clean run.
    let message = cpu_fallback(faulty_methods, 0);
    assert!(message.contains("an attribution"), "{message}");
    let maps = |evs: &[Event]| -> Vec<(Method, Vec<f32>, f32, f32)> {
        evs.iter()
            .filter_map(|e| match e {
                Event::Attribution { method, heatmap, co_sum, co_mult, .. } => {
                    Some((*method, heatmap.clone(), *co_sum, *co_mult))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(maps(methods).len(), 2);
    assert_eq!(maps(faulty_methods), maps(methods));
    // Review scoring: the fallback, then every case scored as in the clean run.
    cpu_fallback(faulty_cases, 0);
    let scored = |evs: &[Event]| -> Vec<(usize, heatmap_explorer::review::Scores)> {
        evs.iter()
            .filter_map(|e| match e {
                Event::CaseScored { index, result, .. } => {
                    Some((*index, result.clone().expect("scored")))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(scored(cases).len(), 2);
    assert!(scored(cases).iter().all(|(_, s)| s.co.is_some_and(f32::is_finite)));
    assert_eq!(scored(faulty_cases), scored(cases));
}

#[test]
fn a_dataset_run_out_of_memory_splits_batches_then_falls_back_to_the_cpu() {
    let dir = temp_dir("worker-oom");
    let data = dir.path().join("data");
    for (c, class) in ["NORMAL", "PNEUMONIA"].iter().enumerate() {
        std::fs::create_dir_all(data.join(class)).expect("mkdir");
        for i in 0..2 {
            random_png(&data.join(class), &format!("{i}.png"), 64, (c * 10 + i) as u64);
        }
    }
    let run = |h: &mut WorkerHandle, batch: usize, name: &str| {
        let job = h.next_job();
        let (dir, out) = (data.clone(), dir.path().join(name));
        let methods = vec![Method::Saliency];
        h.send(Command::RunDataset { job, dir, out, methods, batch, gax_steps: 0, target: None })
            .expect("send");
        let mut events = job_events(h, job);
        let Some(Event::DatasetDone { rows, .. }) = events.pop() else { unreachable!() };
        assert_eq!(rows.len(), 4 * 2, "{name}");
        (events, rows)
    };
    let (mut clean, _) = spawn();
    load_small(&mut clean);
    let (_, pairs) = run(&mut clean, 2, "pairs.csv");
    let (_, fours) = run(&mut clean, 4, "fours.csv");
    // A batch of 4 does not fit, pairs do: split once, the rows of batches of two.
    let mut split = spawn_faulty(Faults { oom_above_batch: Some(2), ..Faults::default() });
    load_small(&mut split);
    let (events, rows) = run(&mut split, 4, "split.csv");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::OutOfMemory { recovery: Recovery::Split { splits: 1 }, message, .. }
                if message.contains("split in two")
        )),
        "{events:?}"
    );
    assert_eq!(rows, pairs);
    // Not even one image fits: the run restarts on the CPU with the rows of a clean run.
    let mut none = spawn_faulty(Faults { oom_above_batch: Some(0), ..Faults::default() });
    load_small(&mut none);
    let (events, rows) = run(&mut none, 4, "cpu.csv");
    let message = cpu_fallback(&events, 0);
    assert!(message.contains("a batch of 1 image(s)"), "{message}");
    assert_eq!(rows, fours);
}

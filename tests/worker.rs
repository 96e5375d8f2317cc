//! The worker thread: protocol, cancel within one step, shutdown on drop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use heatmap_explorer::gax::GaxConfig;
use heatmap_explorer::io::image::Image;
use heatmap_explorer::model::{Arch, ModelSource, Normalize};
use heatmap_explorer::runtime::DeviceChoice;
use heatmap_explorer::worker::{Command, Event, WorkerHandle};

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

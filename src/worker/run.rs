//! The worker thread's loop: owns the model and every tensor, answers commands with events.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};

use super::handle::Waker;
use super::protocol::{ClassScore, Command, Event, JobId, Recovery};
use crate::attribution;
use crate::ax::{self, Variant};
use crate::convert::{to_i64, to_usize};
use crate::error::{Error, Result};
use crate::gax;
use crate::io::image::Image;
use crate::model::{Model, ModelSource};
use crate::runtime;

struct Worker<'a> {
    tx: &'a Sender<Event>,
    cancelled: &'a AtomicU64,
    waker: &'a Waker,
    model: Option<Model>,
    /// Where the loaded model came from (to load it again on the CPU).
    source: Option<ModelSource>,
    files: super::files::OpenFiles,
}

impl Worker<'_> {
    /// Sends an event and wakes the UI; false when the UI has gone.
    fn emit(&self, ev: Event) -> bool {
        let ok = self.tx.send(ev).is_ok();
        (self.waker)();
        ok
    }

    fn is_cancelled(&self, job: JobId) -> bool {
        job.0 <= self.cancelled.load(Ordering::Relaxed)
    }

    fn model(&self) -> Result<&Model> {
        self.model.as_ref().ok_or_else(|| Error::invalid("no model is loaded"))
    }

    fn handle(&mut self, cmd: Command) -> Result<()> {
        match cmd {
            Command::LoadModel { job, source, device } => {
                let dev = device.resolve()?;
                let model = Model::load(&source, dev)?;
                let info = model.info().clone();
                self.model = Some(model);
                self.source = Some(source);
                self.emit(Event::ModelLoaded { job, info, device: runtime::describe_device(dev) });
            }
            Command::LoadImage { job, path, size, options } => {
                let size = size.unwrap_or_else(|| {
                    self.model.as_ref().map_or([256, 256], |m| m.info().image_size())
                });
                let (image, dicom) = self.files.load(&path, size, &options)?;
                let image = Arc::new(image);
                self.emit(Event::ImageLoaded { job, path, image, options, dicom });
            }
            Command::Predict { job, image, top_k } => {
                let top = predict_top(self.model()?, &image, top_k)?;
                self.emit(Event::Prediction { job, top });
            }
            Command::Attribute { job, image, methods, target, label, options } => {
                let model = self.model()?;
                let x = crate::input::to_tensor(&image, model.info().channels, model.device())?;
                let target = match target {
                    Some(t) => t,
                    None => attribution::predict(model, &x)?[0],
                };
                let label = label.unwrap_or(target);
                for method in methods {
                    if self.is_cancelled(job) {
                        break;
                    }
                    let a = attribution::attribute(model, &x, Some(&[target]), method, &options)?;
                    let raw_abs_max = f32::try_from(a.abs().max())?;
                    let (h, zero) = ax::normalise(&a)?;
                    let co = ax::co_scores(model, &x, &h, &[label], &Variant::ALL)?;
                    // `[C, H, W]`: a 1-channel model's heatmap is one plane.
                    let heatmap = Vec::<f32>::try_from(h.to_device(tch::Device::Cpu).view([-1]))?;
                    let ev = Event::Attribution {
                        job,
                        method,
                        target,
                        heatmap,
                        raw_abs_max,
                        co_sum: co[0][0],
                        co_mult: co[1][0],
                        zero: zero[0],
                    };
                    if !self.emit(ev) {
                        return Ok(());
                    }
                }
                self.emit(Event::Finished { job });
            }
            Command::StartGax { job, images, labels, config } => {
                let model = self.model()?;
                let refs: Vec<&Image> = images.iter().map(AsRef::as_ref).collect();
                let x = crate::input::batch(&refs, model.info().channels, model.device())?;
                let tx = self.tx;
                let waker = self.waker;
                let cancelled = self.cancelled;
                let gone = std::cell::Cell::new(false);
                let cancel = || gone.get() || job.0 <= cancelled.load(Ordering::Relaxed);
                let mut on_step = |s: gax::GaxStep| {
                    if tx.send(Event::GaxStep { job, step: Box::new(s) }).is_err() {
                        gone.set(true);
                    }
                    waker();
                };
                let outcome = gax::run(model, &x, &labels, &config, &cancel, &mut on_step)?;
                self.emit(Event::GaxFinished { job, outcome });
            }
            Command::RunDataset { job, dir, out, methods, batch, gax_steps, target } => {
                let model = self.model()?;
                let opts = crate::dataset::RunOptions {
                    methods,
                    batch,
                    shard: None,
                    out,
                    gax_steps,
                    load: crate::input::LoadOptions::default(),
                    overwrite: false,
                    target,
                    labels_csv: None,
                };
                let (tx, waker, cancelled) = (self.tx, self.waker, self.cancelled);
                let mut splits = 0;
                let mut progress = |p: crate::dataset::Progress| {
                    if p.splits > splits {
                        splits = p.splits;
                        let message = format!(
                            "out of memory: a batch was split in two and retried ({splits} so \
                             far)"
                        );
                        let recovery = Recovery::Split { splits };
                        let _ = tx.send(Event::OutOfMemory { job, recovery, message });
                    }
                    let _ = tx.send(Event::DatasetProgress { job, progress: p });
                    waker();
                };
                let cancel = || job.0 <= cancelled.load(Ordering::Relaxed);
                let (summary, rows) =
                    crate::dataset::run_with_rows(model, &dir, &opts, &mut progress, &cancel)?;
                self.emit(Event::DatasetDone { job, rows, summary });
            }
            Command::RunDemo { job, spec } => {
                let cancelled = self.cancelled;
                let cancel = || job.0 <= cancelled.load(Ordering::Relaxed);
                super::demo::run(job, &spec, &|ev| self.emit(ev), &cancel)?;
            }
            Command::ScoreFiles { job, files, co_method } => {
                let model = self.model()?;
                for (index, path) in files {
                    if self.is_cancelled(job) {
                        break;
                    }
                    let result = guarded(|| score_file(model, &path, co_method));
                    // Out of memory ends the job, which restarts on the CPU.
                    if let Err(e) = result.as_ref().map(drop)
                        && can_fall_back(model, e)
                    {
                        return result.map(drop);
                    }
                    let result = result.map_err(|e| format!("{}: {e}", path.display()));
                    if !self.emit(Event::CaseScored { job, index, result }) {
                        return Ok(());
                    }
                }
                self.emit(Event::Finished { job });
            }
            Command::Cancel { .. } | Command::Shutdown => {}
        }
        Ok(())
    }
}

impl Worker<'_> {
    /// Runs `cmd`. A computing job that runs out of GPU memory (or of injected memory) moves the
    /// model to the CPU, says so and restarts there once, with injected faults off.
    fn run(&mut self, cmd: Command) -> Result<()> {
        let retry = cmd.computes().then(|| cmd.clone());
        let result = guarded(|| self.handle(cmd));
        let Some(cmd) = retry else { return result };
        match result {
            Err(e) if self.model.as_ref().is_some_and(|m| can_fall_back(m, &e)) => {
                self.fall_back(cmd.job(), &e)?;
                crate::io::fault::without_oom(|| guarded(|| self.handle(cmd)))
            }
            r => r,
        }
    }

    /// Puts the model on the CPU (a fresh load of its source when it was on a GPU) and tells
    /// the UI why.
    fn fall_back(&mut self, job: JobId, cause: &Error) -> Result<()> {
        let from = self.model()?.device();
        let message = if from.is_cuda() {
            let source = self.source.as_ref().ok_or_else(|| Error::invalid("no model source"))?;
            let cpu = Model::load(source, tch::Device::Cpu)?;
            self.model = Some(cpu);
            format!(
                "{cause} on {}: the model moved to the CPU and the job restarted there (slower)",
                runtime::describe_device(from)
            )
        } else {
            format!("{cause}: the job restarted on the CPU without the injected fault")
        };
        let device = runtime::describe_device(tch::Device::Cpu);
        self.emit(Event::OutOfMemory { job, recovery: Recovery::Cpu { device }, message });
        Ok(())
    }
}

/// Whether `e` is running out of memory that moving `model` to the CPU may get past: a GPU's,
/// or one injected by the tests' fault hook (on any device).
fn can_fall_back(model: &Model, e: &Error) -> bool {
    falls_back(model.device(), e)
}

/// Whether running out of memory on `device` is worth a retry on the CPU.
pub(super) fn falls_back(device: tch::Device, e: &Error) -> bool {
    e.is_out_of_memory() && (device.is_cuda() || matches!(e, Error::InjectedOutOfMemory(_)))
}

fn predict_top(model: &Model, image: &Image, top_k: usize) -> Result<Vec<ClassScore>> {
    let x = crate::input::to_tensor(image, model.info().channels, model.device())?;
    model.check_input(&x)?;
    let logits = tch::no_grad(|| model.forward(&x))?.to_device(tch::Device::Cpu);
    crate::model::check_finite(&logits, || "the logits (the model's output)".to_owned())?;
    let probs = model.info().probabilities(&logits);
    let k = to_i64(top_k).clamp(1, model.info().classes);
    let (_, idx) = logits.topk(k, 1, true, true);
    let idx = Vec::<i64>::try_from(idx.view([-1]))?;
    let lv = Vec::<f32>::try_from(logits.view([-1]))?;
    let pv = Vec::<f32>::try_from(probs.view([-1]))?;
    Ok(idx
        .into_iter()
        .map(|c| {
            let i = to_usize(c);
            ClassScore { class: c, logit: lv[i], prob: pv[i] }
        })
        .collect())
}

/// A review case's scores: every class's logit and probability on the file (its own window),
/// and the CO score of `co_method`'s heatmap for the predicted class.
fn score_file(
    model: &Model,
    path: &std::path::Path,
    co_method: Option<attribution::Method>,
) -> Result<crate::review::Scores> {
    let image = crate::input::load_image(path, model.info().image_size())?;
    let classes = predict_top(model, &image, usize::MAX)?;
    let co = match (co_method, classes.first()) {
        (Some(m), Some(best)) => {
            let x = crate::input::to_tensor(&image, model.info().channels, model.device())?;
            let t = [best.class];
            let a = attribution::attribute(model, &x, Some(&t), m, &Default::default())?;
            let (h, _) = ax::normalise(&a)?;
            Some(ax::co_scores(model, &x, &h, &t, &[Variant::Sum])?[0][0])
        }
        _ => None,
    };
    Ok(crate::review::Scores { classes, co })
}

/// Runs `f`, turning a libtorch panic into an error so one bad request never kills the worker.
pub fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        let first = msg.lines().next().unwrap_or(msg);
        Err(Error::invalid(format!("internal failure (caught; the worker goes on): {first}")))
    })
}

/// The thread body.
pub fn main_loop(rx: &Receiver<Command>, tx: &Sender<Event>, cancelled: &AtomicU64, waker: &Waker) {
    let mut w =
        Worker { tx, cancelled, waker, model: None, source: None, files: Default::default() };
    while let Ok(cmd) = rx.recv() {
        if matches!(cmd, Command::Shutdown) {
            break;
        }
        let job = cmd.job();
        if !matches!(cmd, Command::Cancel { .. }) && w.is_cancelled(job) {
            continue;
        }
        if let Err(e) = w.run(cmd)
            && !w.emit(Event::Failed { job, message: e.to_string() })
        {
            break;
        }
        if cancelled.load(Ordering::Relaxed) == u64::MAX {
            break;
        }
    }
}

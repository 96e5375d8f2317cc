//! File work that runs on a thread of its own, so the window never waits on a disk: exports and
//! saves (each reports a status message or an error when it ends) and GAX run-file opens (which
//! bring the run back). Each task has its own cancel flag, checked between its stages (before
//! the read, between encoding and writing, before every GIF frame); a cancelled write leaves
//! the file it would replace untouched, and a cancelled open's run is dropped. The status line
//! shows a spinner, a progress bar for tasks that count their parts (GIF frames) and a Cancel
//! button while any task runs. Closing the app waits a few seconds for the tasks under way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};

use crate::io::runfile::RunRecord;

/// What a finished task brings back.
#[derive(Debug)]
pub(super) enum Done {
    /// A write ended: its status message, or the error.
    Written(Result<String, String>),
    /// A run file was read (`Err`: why it could not be).
    Run {
        /// The file.
        path: PathBuf,
        /// The run, or the error.
        result: Result<Box<RunRecord>, String>,
    },
}

/// A task's controls: its cancel flag (set by [`Tasks::cancel_all`]) and its progress.
#[derive(Debug, Default)]
pub(super) struct Control {
    cancel: AtomicBool,
    done: AtomicUsize,
    total: AtomicUsize,
}

impl Control {
    /// Whether the task was asked to stop.
    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Reports `done` of `total` parts (e.g. GIF frames) finished.
    pub(super) fn progress(&self, done: usize, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }
}

/// A task's controls, shared with its thread.
type SharedControl = Arc<Control>;

/// A finished task: its id and what it brings.
type Finished = (u64, Done);

/// The tasks running off the UI thread.
pub(super) struct Tasks {
    tx: Sender<Finished>,
    rx: Receiver<Finished>,
    /// Running tasks' cancel flags, by id.
    running: BTreeMap<u64, SharedControl>,
    next: u64,
    /// Woken when a task ends.
    ctx: Option<egui::Context>,
}

/// A task registered and not started yet (a screenshot's write starts when the picture
/// arrives). Dropped without starting, it reports that it never ran.
pub(super) struct Starter {
    id: u64,
    cancel: SharedControl,
    tx: Sender<Finished>,
    ctx: Option<egui::Context>,
    started: bool,
    /// The error reported when it never starts.
    never: &'static str,
}

impl Starter {
    /// Runs `work` on a thread named `name`; what it returns is reported to the UI.
    pub(super) fn start(
        mut self,
        name: &str,
        work: impl FnOnce(&Control) -> Done + Send + 'static,
    ) {
        self.started = true;
        let (id, cancel, tx, ctx) =
            (self.id, self.cancel.clone(), self.tx.clone(), self.ctx.clone());
        let spawned = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            let done = work(&cancel);
            let _ = tx.send((id, done));
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        if let Err(e) = spawned {
            self.report(Done::Written(Err(format!("could not start a thread: {e}"))));
        }
    }

    fn report(&self, done: Done) {
        let _ = self.tx.send((self.id, done));
        if let Some(ctx) = &self.ctx {
            ctx.request_repaint();
        }
    }
}

impl Drop for Starter {
    fn drop(&mut self) {
        if !self.started {
            self.report(Done::Written(Err(self.never.to_owned())));
        }
    }
}

impl Tasks {
    /// No tasks yet; `ctx` is woken whenever one ends.
    pub(super) fn new(ctx: Option<egui::Context>) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Self { tx, rx, running: BTreeMap::new(), next: 1, ctx }
    }

    /// Registers a task to start later with [`Starter::start`]; `never` is its error should it
    /// never start.
    pub(super) fn prepare(&mut self, never: &'static str) -> Starter {
        let id = self.next;
        self.next += 1;
        let cancel = SharedControl::default();
        self.running.insert(id, cancel.clone());
        Starter { id, cancel, tx: self.tx.clone(), ctx: self.ctx.clone(), started: false, never }
    }

    /// Runs `work` on a thread named `name` now; returns the task's id.
    pub(super) fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(&Control) -> Done + Send + 'static,
    ) -> u64 {
        let starter = self.prepare("the task never started");
        let id = starter.id;
        starter.start(name, work);
        id
    }

    /// The tasks that ended since the last call, each with whether it was cancelled.
    pub(super) fn finished(&mut self) -> Vec<(u64, Done, bool)> {
        self.rx
            .try_iter()
            .map(|(id, done)| {
                let cancelled = self.running.remove(&id).is_some_and(|c| c.cancelled());
                (id, done, cancelled)
            })
            .collect()
    }

    /// Asks every running task to stop.
    pub(super) fn cancel_all(&self) {
        for c in self.running.values() {
            c.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// How many tasks are running.
    pub(super) fn running(&self) -> usize {
        self.running.len()
    }

    /// Parts done and in all, over the running tasks that report progress.
    pub(super) fn progress(&self) -> Option<(usize, usize)> {
        let parts = self
            .running
            .values()
            .map(|c| (c.done.load(Ordering::Relaxed), c.total.load(Ordering::Relaxed)));
        let (done, total) = parts.fold((0, 0), |(d, t), (dc, tc)| (d + dc, t + tc));
        (total > 0).then_some((done, total))
    }
}

impl Drop for Tasks {
    /// Lets the writes under way finish (up to a few seconds) when the app closes, so a save
    /// asked for just before is not lost.
    fn drop(&mut self) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !self.running.is_empty() {
            let Ok((id, _)) = self.rx.recv_deadline(end) else { break };
            self.running.remove(&id);
        }
    }
}

impl super::App {
    /// Applies the tasks that ended since the last frame: a write's message or error goes to
    /// the status line, an opened run file to the image list.
    pub fn poll_background(&mut self) {
        for (id, done, cancelled) in self.tasks.finished() {
            match done {
                Done::Written(Ok(message)) => self.state.info(message),
                Done::Written(Err(e)) => self.state.error(e),
                Done::Run { path, result } => self.on_run_opened(id, path, result, cancelled),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(tasks: &mut Tasks, n: usize) -> Vec<(u64, Done, bool)> {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut all = Vec::new();
        while all.len() < n {
            assert!(std::time::Instant::now() < end, "tasks never ended");
            all.extend(tasks.finished());
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        all
    }

    #[test]
    fn tasks_report_and_cancel_one_by_one() {
        let mut tasks = Tasks::new(None);
        let (go_tx, go_rx) = crossbeam_channel::bounded::<()>(0);
        let blocked = tasks.spawn("test", move |cancel| {
            let _ = go_rx.recv();
            let r = if cancel.cancelled() { Err("stopped") } else { Ok("ran") };
            Done::Written(r.map(str::to_owned).map_err(str::to_owned))
        });
        assert_eq!(tasks.running(), 1);
        assert_eq!(tasks.progress(), None);
        tasks.running.values().for_each(|c| c.progress(2, 5));
        assert_eq!(tasks.progress(), Some((2, 5)));
        tasks.cancel_all();
        // A task started after the cancel is not cancelled.
        let later = tasks.spawn("test", |_| Done::Written(Ok("later".into())));
        let never = tasks.prepare("the task never started");
        drop(never);
        go_tx.send(()).expect("go");
        let mut all = wait(&mut tasks, 3);
        all.sort_by_key(|(id, ..)| *id);
        assert_eq!(tasks.running(), 0);
        let summary: Vec<(u64, String, bool)> = all
            .into_iter()
            .map(|(id, d, c)| match d {
                Done::Written(r) => (id, r.unwrap_or_else(|e| e), c),
                Done::Run { .. } => (id, "run".into(), c),
            })
            .collect();
        assert_eq!(
            summary,
            [
                (blocked, "stopped".into(), true),
                (later, "later".into(), false),
                (later + 1, "the task never started".into(), false)
            ]
        );
    }

    #[test]
    fn dropping_the_tasks_lets_a_write_under_way_finish() {
        let path = std::env::temp_dir().join(format!("hx-tasks-{}.txt", std::process::id()));
        let mut tasks = Tasks::new(None);
        let target = path.clone();
        tasks.spawn("test", move |_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let r = crate::io::write_atomic(&target, b"saved").map_err(|e| e.to_string());
            Done::Written(r.map(|()| String::new()))
        });
        drop(tasks);
        assert_eq!(std::fs::read(&path).expect("written before the drop returned"), b"saved");
        std::fs::remove_file(&path).expect("clean up");
    }
}

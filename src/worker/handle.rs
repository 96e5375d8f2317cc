//! The UI side of the worker: spawn, send, drain, cancel; dropping it shuts the thread down and
//! joins it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::protocol::{Command, Event, JobId};
use crate::error::{Error, Result};

/// Wakes the UI after the worker sent an event (e.g. `egui::Context::request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Owns the worker thread.
pub struct WorkerHandle {
    tx: Sender<Command>,
    rx: Receiver<Event>,
    cancelled: Arc<AtomicU64>,
    next: u64,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle").field("next", &self.next).finish_non_exhaustive()
    }
}

impl WorkerHandle {
    /// Starts the worker thread; `waker` runs after every event it sends.
    pub fn spawn(waker: Waker) -> Result<Self> {
        Self::spawn_with_faults(waker, None)
    }

    /// Like [`Self::spawn`], with the worker's injected faults given (for the tests) instead of
    /// read from `HEATMAP_EXPLORER_FAULT`.
    pub fn spawn_with_faults(
        waker: Waker,
        faults: Option<crate::io::fault::Faults>,
    ) -> Result<Self> {
        let (tx, cmd_rx) = crossbeam_channel::unbounded();
        let (ev_tx, rx) = crossbeam_channel::unbounded();
        let cancelled = Arc::new(AtomicU64::new(0));
        let flag = Arc::clone(&cancelled);
        let thread = std::thread::Builder::new()
            .name("heatmap-worker".to_owned())
            .spawn(move || {
                if let Some(f) = faults {
                    crate::io::fault::set_for_thread(f);
                }
                super::run::main_loop(&cmd_rx, &ev_tx, &flag, &waker);
            })
            .map_err(|e| Error::io("worker thread", e))?;
        Ok(Self { tx, rx, cancelled, next: 1, thread: Some(thread) })
    }

    /// A fresh job id.
    pub fn next_job(&mut self) -> JobId {
        let j = JobId(self.next);
        self.next += 1;
        j
    }

    /// Sends a command.
    pub fn send(&self, cmd: Command) -> Result<()> {
        self.tx.send(cmd).map_err(|_| Error::WorkerGone)
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Cancels every job up to and including `job`; running loops see it before their next
    /// step.
    pub fn cancel(&self, job: JobId) {
        self.cancelled.fetch_max(job.0, Ordering::SeqCst);
        // The flag does the work; the command only wakes a worker that is idle.
        let _ = self.tx.send(Command::Cancel { job });
    }

    /// Whether the thread is still running.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.cancelled.store(u64::MAX, Ordering::SeqCst);
        let _ = self.tx.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

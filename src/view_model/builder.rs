//! A thread that builds the central view while a GAX run streams, so the colour mapping of its
//! panels never runs on the UI thread then: the UI hands over what a build needs
//! ([`Prepared`]: shared pixels and half-precision heatmaps) and takes the finished view when
//! it is there, drawing the previous one meanwhile. One build at a time; dropping the builder
//! ends the thread.

use crossbeam_channel::{Receiver, Sender};

use super::explorer::{ExplorerView, Prepared};

/// The build thread and its channels; a build carries the generation it was asked in, so the
/// UI can drop builds that a newer synchronous one made stale.
pub struct Builder {
    jobs: Option<Sender<(u64, Prepared)>>,
    done: Receiver<(u64, ExplorerView)>,
    busy: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Builder {
    /// Starts the thread; `None` when the system refuses one (the UI then builds in place).
    pub fn spawn() -> Option<Self> {
        let (jobs, rx) = crossbeam_channel::unbounded::<(u64, Prepared)>();
        let (tx, done) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("heatmap-view".to_owned())
            .spawn(move || {
                while let Ok((generation, prepared)) = rx.recv() {
                    if tx.send((generation, prepared.build())).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Self { jobs: Some(jobs), done, busy: false, thread: Some(thread) })
    }

    /// Whether a build is under way.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Starts a build of `prepared`, tagged `generation`; false when the thread has gone.
    pub fn submit(&mut self, generation: u64, prepared: Prepared) -> bool {
        let sent = self.jobs.as_ref().is_some_and(|j| j.send((generation, prepared)).is_ok());
        self.busy |= sent;
        sent
    }

    /// The finished build, if there is one.
    pub fn poll(&mut self) -> Option<(u64, ExplorerView)> {
        let done = self.done.try_recv().ok()?;
        self.busy = false;
        Some(done)
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        // Closing the job channel ends the thread's loop after the build it is on.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

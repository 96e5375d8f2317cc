//! The review's file thread: it opens a review folder (reads the state saved beside it and lists
//! its studies) and writes the review state and the review CSV, so the UI thread never waits on
//! a disk. Requests are handled in the order they were sent, so a folder opened again reads
//! what the saves before it wrote. Of several state saves of the same folder queued at once
//! only the newest is written (each is the whole state, so the older ones are superseded, never
//! lost); of several opens queued at once only the newest is done, and an open cancelled before
//! it starts is skipped. Every file is written atomically (temporary file, sync, rename).
//! Dropping the writer does what is already queued and joins the thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};

use crate::review::{self, Case, Saved};

/// What the UI asks the review's file thread for.
#[derive(Debug)]
pub enum WriteRequest {
    /// The review state of `folder` (`<folder>.review.json`).
    State {
        /// The review folder.
        folder: PathBuf,
        /// The whole state to write.
        state: Saved,
    },
    /// The review as CSV at `path`.
    Csv {
        /// Where to write.
        path: PathBuf,
        /// The CSV text.
        text: String,
    },
    /// Open `folder` for review: read its saved state and list its studies.
    Open {
        /// The review folder.
        folder: PathBuf,
        /// Names this open in its answer, [`WriteResult::Opened`].
        ticket: u64,
    },
}

/// An opened review folder: its cases with their saved marks, and the state they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// Every study of the folder, by path, with its saved marks.
    pub cases: Vec<Case>,
    /// The saved state (where the reader was).
    pub saved: Saved,
}

/// What a finished request reports (successful state saves report nothing: they are routine).
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// The review state of `folder` could not be written.
    StateFailed {
        /// The review folder.
        folder: PathBuf,
        /// Why.
        message: String,
    },
    /// The CSV export ended.
    Csv {
        /// Where it was written.
        path: PathBuf,
        /// `Err`: why it could not be.
        result: Result<(), String>,
    },
    /// A folder was opened (or could not be).
    Opened {
        /// The review folder.
        folder: PathBuf,
        /// The ticket its request carried.
        ticket: u64,
        /// The folder's cases, or why it could not be opened.
        result: Result<Opened, String>,
    },
}

/// The writer thread and its channels.
pub struct ReviewWriter {
    tx: Option<Sender<WriteRequest>>,
    results: Receiver<WriteResult>,
    /// Requests sent and not yet done (or superseded).
    pending: Arc<AtomicUsize>,
    /// Opens with a ticket up to this one are cancelled (skipped when not yet started).
    cancelled: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ReviewWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewWriter").field("pending", &self.pending()).finish_non_exhaustive()
    }
}

/// Drops the state saves of `batch` that a later save of the same folder supersedes, and the
/// opens a later open supersedes.
fn newest_states(batch: Vec<WriteRequest>) -> (Vec<WriteRequest>, usize) {
    let n = batch.len();
    let mut kept: Vec<WriteRequest> = Vec::with_capacity(n);
    for r in batch.into_iter().rev() {
        let superseded = match &r {
            WriteRequest::State { folder, .. } => kept
                .iter()
                .any(|k| matches!(k, WriteRequest::State { folder: f, .. } if f == folder)),
            WriteRequest::Open { .. } => {
                kept.iter().any(|k| matches!(k, WriteRequest::Open { .. }))
            }
            WriteRequest::Csv { .. } => false,
        };
        if !superseded {
            kept.push(r);
        }
    }
    kept.reverse();
    let dropped = n - kept.len();
    (kept, dropped)
}

/// Reads the saved state of `folder` and lists its studies.
fn open(folder: &std::path::Path) -> crate::error::Result<Opened> {
    let saved = review::load(folder)?;
    let cases = review::cases(folder, &saved)?;
    Ok(Opened { cases, saved })
}

fn handle(request: WriteRequest, cancelled: &AtomicU64) -> Option<WriteResult> {
    match request {
        WriteRequest::Open { ticket, .. } if ticket <= cancelled.load(Ordering::Acquire) => None,
        WriteRequest::Open { folder, ticket } => {
            let result = open(&folder).map_err(|e| e.to_string());
            Some(WriteResult::Opened { folder, ticket, result })
        }
        WriteRequest::State { folder, state } => review::save(&folder, &state)
            .err()
            .map(|e| WriteResult::StateFailed { folder, message: e.to_string() }),
        WriteRequest::Csv { path, text } => {
            let result = crate::io::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string());
            Some(WriteResult::Csv { path, result })
        }
    }
}

impl ReviewWriter {
    /// Starts the thread; `wake` is called after each reported result (the UI's repaint).
    pub fn spawn(wake: Option<egui::Context>) -> crate::error::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded::<WriteRequest>();
        let (result_tx, results) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicUsize::new(0));
        let left = Arc::clone(&pending);
        let cancelled = Arc::new(AtomicU64::new(0));
        let skip = Arc::clone(&cancelled);
        let thread = std::thread::Builder::new()
            .name("review-io".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let batch: Vec<_> = std::iter::once(first).chain(rx.try_iter()).collect();
                    let (batch, superseded) = newest_states(batch);
                    left.fetch_sub(superseded, Ordering::AcqRel);
                    for request in batch {
                        let report = handle(request, &skip);
                        left.fetch_sub(1, Ordering::AcqRel);
                        if let Some(r) = report {
                            let _ = result_tx.send(r);
                        }
                        if let Some(ctx) = &wake {
                            ctx.request_repaint();
                        }
                    }
                }
            })
            .map_err(|e| crate::error::Error::invalid(format!("review writer thread: {e}")))?;
        Ok(Self { tx: Some(tx), results, pending, cancelled, thread: Some(thread) })
    }

    /// Queues `request`; it is written in order after the ones before it.
    pub fn send(&self, request: WriteRequest) -> Result<(), String> {
        let Some(tx) = &self.tx else { return Err("the review writer has stopped".into()) };
        self.pending.fetch_add(1, Ordering::AcqRel);
        tx.send(request).map_err(|_| {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            "the review writer has stopped".to_owned()
        })
    }

    /// Cancels the opens up to and including `ticket`: one not yet started is skipped (one
    /// under way ends and reports; the caller drops its answer).
    pub fn cancel_open(&self, ticket: u64) {
        self.cancelled.fetch_max(ticket, Ordering::AcqRel);
    }

    /// Requests sent and not yet done (writes not yet on disk, opens not yet answered).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// The results that arrived since the last call.
    pub fn results(&self) -> Vec<WriteResult> {
        self.results.try_iter().collect()
    }
}

impl Drop for ReviewWriter {
    fn drop(&mut self) {
        // Closing the channel ends the thread once the queued writes are done.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(folder: &str, note: &str) -> WriteRequest {
        let mut s = Saved { version: 1, ..Saved::default() };
        s.cases.insert("a.png".into(), review::Marks { note: note.into(), ..Default::default() });
        WriteRequest::State { folder: PathBuf::from(folder), state: s }
    }

    fn note_of(r: &WriteRequest) -> String {
        match r {
            WriteRequest::State { folder, state } => {
                format!("{}:{}", folder.display(), state.cases["a.png"].note)
            }
            WriteRequest::Csv { path, .. } => format!("csv {}", path.display()),
            WriteRequest::Open { folder, ticket } => format!("open {} {ticket}", folder.display()),
        }
    }

    #[test]
    fn only_the_newest_state_of_a_folder_is_written_in_order() {
        let csv = WriteRequest::Csv { path: "r.csv".into(), text: String::new() };
        let open = |f: &str, ticket| WriteRequest::Open { folder: f.into(), ticket };
        let batch = vec![
            state("x", "1"),
            open("x", 1),
            state("y", "1"),
            csv,
            state("x", "2"),
            open("y", 2),
            state("x", "3"),
        ];
        let (kept, dropped) = newest_states(batch);
        assert_eq!(dropped, 3);
        let names: Vec<String> = kept.iter().map(note_of).collect();
        assert_eq!(names, ["y:1", "csv r.csv", "open y 2", "x:3"]);
    }

    #[test]
    fn writes_off_the_calling_thread_and_reports_failures() {
        let dir = std::env::temp_dir().join(format!("hx-review-io-{}", std::process::id()));
        let folder = dir.join("studies");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let w = ReviewWriter::spawn(None).expect("thread");
        for note in ["first", "second", "third"] {
            let WriteRequest::State { state, .. } = state("", note) else { unreachable!() };
            w.send(WriteRequest::State { folder: folder.clone(), state }).expect("send");
        }
        let csv = dir.join("review.csv");
        w.send(WriteRequest::Csv { path: csv.clone(), text: "file\n".into() }).expect("send");
        // A CSV into a folder that does not exist fails, and says so.
        let bad = dir.join("missing").join("review.csv");
        w.send(WriteRequest::Csv { path: bad.clone(), text: "file\n".into() }).expect("send");
        // A state whose folder's parent does not exist cannot be saved either.
        let gone = dir.join("missing").join("studies");
        let WriteRequest::State { state: s, .. } = state("", "x") else { unreachable!() };
        w.send(WriteRequest::State { folder: gone.clone(), state: s }).expect("send");
        let wait = |w: &ReviewWriter| {
            let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while w.pending() > 0 {
                assert!(std::time::Instant::now() < end, "requests never finished");
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            w.results()
        };
        let results = wait(&w);
        assert_eq!(results.len(), 3, "{results:?}");
        assert_eq!(results[0], WriteResult::Csv { path: csv.clone(), result: Ok(()) });
        assert!(
            matches!(&results[1], WriteResult::Csv { path, result: Err(_) } if *path == bad),
            "{results:?}"
        );
        assert!(
            matches!(&results[2], WriteResult::StateFailed { folder, .. } if *folder == gone),
            "{results:?}"
        );
        let back = review::load(&folder).expect("load");
        assert_eq!(back.cases["a.png"].note, "third", "the newest state is on disk");
        assert_eq!(std::fs::read_to_string(&csv).expect("csv"), "file\n");

        // Opening the folder reads what the saves before it wrote; a cancelled open is skipped.
        std::fs::write(folder.join("a.png"), b"").expect("write");
        w.cancel_open(1);
        w.send(WriteRequest::Open { folder: folder.clone(), ticket: 1 }).expect("send");
        assert_eq!(wait(&w), [], "a cancelled open is skipped");
        w.send(WriteRequest::Open { folder: folder.clone(), ticket: 2 }).expect("send");
        let opened = wait(&w);
        let [WriteResult::Opened { ticket: 2, result: Ok(o), .. }] = opened.as_slice() else {
            panic!("{opened:?}")
        };
        assert_eq!(o.cases.len(), 1);
        assert_eq!(o.cases[0].marks.note, "third");
        w.send(WriteRequest::Open { folder: dir.join("none"), ticket: 3 }).expect("send");
        let failed = wait(&w);
        assert!(
            matches!(failed.as_slice(), [WriteResult::Opened { ticket: 3, result: Err(_), .. }]),
            "{failed:?}"
        );
        drop(w);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

//! The review tab's intents: open a folder of studies (its saved marks come back), score every
//! case in the background, move through the queue, flag, note, mark reviewed, reveal in
//! blinded mode, export the CSV. Every change of the marks is saved beside the folder at once
//! (a note when its editing ends), so dropping the app loses at most the note being typed. The
//! folder is read and listed, and the saves and the CSV are written, by the review's file
//! thread (`review_io`), never on the UI thread.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::App;
use super::review_io::{Opened, WriteRequest, WriteResult};
use super::state::Pending;
use crate::attribution::Method;
use crate::review::{self, Case, CaseStatus, Order};
use crate::worker::{Command, JobId};

/// The review tab's state.
#[derive(Debug, Default)]
pub struct ReviewState {
    /// The folder as typed.
    pub dir: String,
    /// The open folder.
    pub folder: Option<PathBuf>,
    /// Its cases, by path.
    pub cases: Vec<Case>,
    /// The queue's order.
    pub order: Order,
    /// The method whose CO score is computed for each case (None: no CO).
    pub co_method: Option<Method>,
    /// Hide predictions and heatmaps until revealed, case by case.
    pub blinded: bool,
    /// Cases revealed in blinded mode (by path).
    pub revealed: BTreeSet<String>,
    /// The case on show (index into `cases`).
    pub current: Option<usize>,
    /// The folder being opened (read on the review's file thread) and its ticket.
    pub opening: Option<(u64, PathBuf)>,
    /// The scoring job.
    pub job: Option<JobId>,
    /// Cases scored so far in this job.
    pub scored: usize,
    /// The note being edited for the case on show.
    pub note: String,
}

impl ReviewState {
    /// The queue in its order (blinded: by path, so the order cannot give the model away).
    pub fn queue(&self) -> Vec<usize> {
        review::ordered(&self.cases, if self.blinded { Order::File } else { self.order })
    }

    /// Whether the model's view of case `i` may be shown.
    pub fn visible(&self, i: usize) -> bool {
        !self.blinded || self.cases.get(i).is_some_and(|c| self.revealed.contains(&c.rel))
    }

    /// The case on show.
    pub fn current_case(&self) -> Option<&Case> {
        self.current.and_then(|i| self.cases.get(i))
    }
}

impl App {
    /// Opens `folder` for review: its images and DICOM files, the marks saved beside it, the
    /// case the reader was on, and scoring in the background when a model is loaded. The folder
    /// is read on the review's file thread; until it answers, the tab shows it opening and the
    /// folder on show stays as it was. Of several opens, the last one asked for wins.
    pub fn open_review(&mut self, folder: PathBuf) {
        // The note being typed belongs to the folder on show: saved (queued before the open, so
        // reopening the same folder reads it back).
        self.commit_note();
        let ticket = self.state.fresh_id();
        let shown = folder.display().to_string();
        match self.review_io.send(WriteRequest::Open { folder: folder.clone(), ticket }) {
            Ok(()) => {
                if let Some((old, _)) = self.state.review.opening.replace((ticket, folder)) {
                    self.review_io.cancel_open(old);
                }
                self.state.info(format!("opening {shown} for review..."));
            }
            Err(e) => self.state.error(format!("{shown} could not be opened: {e}")),
        }
    }

    /// Whether a review folder is being opened.
    pub fn review_opening(&self) -> bool {
        self.state.review.opening.is_some()
    }

    /// Stops opening a review folder: the folder on show stays.
    pub fn cancel_review_open(&mut self) {
        if let Some((ticket, folder)) = self.state.review.opening.take() {
            self.review_io.cancel_open(ticket);
            self.state.info(format!("opening {} cancelled", folder.display()));
        }
    }

    /// A review folder read on the file thread: shown, unless another open was asked for since
    /// (or this one was cancelled).
    fn on_review_opened(&mut self, folder: PathBuf, ticket: u64, result: Result<Opened, String>) {
        if self.state.review.opening.as_ref().is_none_or(|(t, _)| *t != ticket) {
            return;
        }
        self.state.review.opening = None;
        let Opened { cases, saved } = match result {
            Ok(o) => o,
            Err(e) => {
                self.state.error(e);
                return;
            }
        };
        let r = &mut self.state.review;
        r.dir = folder.display().to_string();
        r.current = saved.current.as_ref().and_then(|c| cases.iter().position(|x| &x.rel == c));
        r.cases = cases;
        r.folder = Some(folder);
        r.revealed.clear();
        let n = r.cases.len();
        let done = r.cases.iter().filter(|c| c.marks.status == CaseStatus::Reviewed).count();
        self.state.info(format!("review: {n} case(s), {done} reviewed"));
        self.review_score();
        if let Some(i) = self.state.review.current {
            self.review_show(i);
        }
    }

    /// Scores every case on the worker (prediction, and the CO of the chosen method).
    pub fn review_score(&mut self) {
        if self.state.model.is_none() || self.state.review.cases.is_empty() {
            return;
        }
        if let Some(job) = self.state.review.job.take() {
            self.worker.cancel(job);
            self.state.pending.remove(&job);
        }
        let files: Vec<(usize, PathBuf)> =
            self.state.review.cases.iter().enumerate().map(|(i, c)| (i, c.path.clone())).collect();
        let co_method = self.state.review.co_method;
        self.state.review.scored = 0;
        for c in &mut self.state.review.cases {
            c.scores = None;
        }
        let job = self.submit(|job| Command::ScoreFiles { job, files, co_method }, Pending::Review);
        self.state.review.job = job;
    }

    /// Shows case `i`: opens it in the explorer (or selects it when open) and loads its note.
    pub fn review_show(&mut self, i: usize) {
        let Some(case) = self.state.review.cases.get(i) else { return };
        let path = case.path.clone();
        self.state.review.note = case.marks.note.clone();
        self.state.review.current = Some(i);
        match self.state.images.iter().position(|e| e.path == path && e.run.is_none()) {
            Some(k) => self.select_image(k),
            None => self.open_image(path),
        }
        self.review_save();
    }

    /// Moves `by` places in the queue (next: 1, previous: −1), staying at the ends.
    pub fn review_step(&mut self, by: isize) {
        let queue = self.state.review.queue();
        if queue.is_empty() {
            return;
        }
        let pos = self.state.review.current.and_then(|c| queue.iter().position(|&q| q == c));
        let next = match pos {
            None => 0,
            Some(p) => p.saturating_add_signed(by).min(queue.len() - 1),
        };
        self.commit_note();
        self.review_show(queue[next]);
    }

    /// Flags or unflags the case on show.
    pub fn review_toggle_flag(&mut self) {
        self.edit_case(|c| c.marks.flag = !c.marks.flag);
    }

    /// Marks the case on show reviewed (now), or unread again.
    pub fn review_toggle_reviewed(&mut self) {
        self.edit_case(|c| {
            if c.marks.status == CaseStatus::Reviewed {
                c.marks.status = CaseStatus::Unread;
                c.marks.reviewed_at = None;
            } else {
                c.marks.status = CaseStatus::Reviewed;
                c.marks.reviewed_at = Some(review::now());
            }
        });
    }

    /// Reveals the model's view of the case on show (blinded mode).
    pub fn review_reveal(&mut self) {
        if let Some(c) = self.state.review.current_case() {
            let rel = c.rel.clone();
            self.state.review.revealed.insert(rel);
        }
    }

    /// Stores the note being edited on the case on show (and saves) when it changed.
    pub fn commit_note(&mut self) {
        let note = self.state.review.note.clone();
        if self.state.review.current_case().is_some_and(|c| c.marks.note != note) {
            self.edit_case(|c| c.marks.note = note);
        }
    }

    fn edit_case(&mut self, f: impl FnOnce(&mut Case)) {
        let r = &mut self.state.review;
        let Some(c) = r.current.and_then(|i| r.cases.get_mut(i)) else { return };
        f(c);
        self.review_save();
    }

    /// Saves the review state beside the folder: queued for the review writer (atomic, off the
    /// UI thread; a failure stays in the status line until dismissed).
    fn review_save(&mut self) {
        let r = &self.state.review;
        let Some(folder) = r.folder.clone() else { return };
        let state = review::saved(&r.cases, r.current_case());
        if let Err(e) = self.review_io.send(WriteRequest::State { folder, state }) {
            self.state.error(format!("the review could not be saved: {e}"));
        }
    }

    /// Exports the review as CSV (file, status, flag, note, predicted class, score,
    /// reviewed-at), in the queue's order; no identifiers. Written off the UI thread; the
    /// status line says when it is done.
    pub fn export_review_csv(&mut self, path: &Path) {
        self.commit_note();
        let r = &self.state.review;
        let order = r.queue();
        let names = |k: i64| self.state.class_name(k);
        let text = review::csv(&r.cases, &order, &names);
        let path = path.to_owned();
        let shown = path.display().to_string();
        match self.review_io.send(WriteRequest::Csv { path, text }) {
            Ok(()) => self.state.info(format!("writing the review to {shown}...")),
            Err(e) => self.state.error(format!("the review CSV could not be written: {e}")),
        }
    }

    /// Exports the review CSV beside the folder, as `<folder>.review.csv`.
    pub fn export_review_csv_beside(&mut self) {
        let Some(folder) = self.state.review.folder.clone() else { return };
        self.export_review_csv(&csv_beside(&folder));
    }

    /// Review requests (state saves, CSV exports, folder opens) queued and not yet done.
    pub fn review_writes_pending(&self) -> usize {
        self.review_io.pending()
    }

    /// Applies what the review's file thread finished since the last frame: an opened folder
    /// is shown; a failed open, save or export is an error in the status line (until
    /// dismissed), a finished export says where it is.
    pub fn poll_review_io(&mut self) {
        for r in self.review_io.results() {
            match r {
                WriteResult::Opened { folder, ticket, result } => {
                    self.on_review_opened(folder, ticket, result);
                }
                WriteResult::StateFailed { folder, message } => self.state.error(format!(
                    "the review of {} could not be saved: {message}",
                    folder.display()
                )),
                WriteResult::Csv { path, result: Ok(()) } => {
                    self.state.info(format!("review written to {}", path.display()));
                }
                WriteResult::Csv { path, result: Err(e) } => self.state.error(format!(
                    "the review CSV could not be written to {}: {e}",
                    path.display()
                )),
            }
        }
    }
}

/// Where "Export review CSV" writes for `folder`: `<folder>.review.csv` beside it.
pub fn csv_beside(folder: &Path) -> PathBuf {
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    folder.with_file_name(format!("{name}.review.csv"))
}

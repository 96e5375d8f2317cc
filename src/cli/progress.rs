//! Progress on stderr. On a terminal an indicatif bar; anywhere else (a cluster job's log file)
//! a plain line when the work starts, every 30 seconds and when it ends, so logs hold clean
//! lines instead of runs of `\r`.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a log (stderr not a terminal) gets a progress line.
const LOG_EVERY: Duration = Duration::from_secs(30);

enum Sink {
    Bar(ProgressBar),
    /// When the last plain line was written.
    Log(Option<Instant>),
    Quiet,
}

/// Progress of one piece of work counted in `what` (e.g. `images`).
pub struct Progress {
    sink: Sink,
    what: &'static str,
}

impl Progress {
    /// Progress towards `len` units; `quiet` shows nothing.
    pub fn new(what: &'static str, len: u64, quiet: bool) -> Self {
        let sink = if quiet {
            Sink::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{wide_bar} {pos}/{len} {prefix}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(what);
            Sink::Bar(bar)
        } else {
            Sink::Log(None)
        };
        Self { sink, what }
    }

    /// `done` of `len` units, with a short message (rate, time left, a score).
    pub fn set(&mut self, done: u64, len: u64, message: &str) {
        match &mut self.sink {
            Sink::Bar(bar) => {
                bar.set_length(len);
                bar.set_position(done);
                bar.set_message(message.to_owned());
            }
            Sink::Log(last) => {
                if done >= len || last.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    *last = Some(Instant::now());
                    eprintln!("{done}/{len} {}  {message}", self.what);
                }
            }
            Sink::Quiet => {}
        }
    }

    /// A line of its own (above the bar on a terminal).
    pub fn note(&self, line: &str) {
        match &self.sink {
            Sink::Bar(bar) => bar.println(line),
            Sink::Log(_) => eprintln!("{line}"),
            Sink::Quiet => {}
        }
    }

    /// Leaves the bar's last state on the terminal.
    pub fn finish(self) {
        if let Sink::Bar(bar) = self.sink {
            bar.finish();
        }
    }
}

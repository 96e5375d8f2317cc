//! Fault injection for the tests: [`FAULT_VAR`] (or, for an in-process worker, the faults it was
//! spawned with) makes a save die between its write and its rename, or makes a dataset batch,
//! a GAX step or an attribution fail as a GPU running out of memory would, on any device, so
//! that the splitting and the CPU fallback can be tested on a machine without a GPU.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The environment variable that injects faults: comma-separated words of
/// - `die-before-rename`: [`super::write_atomic`] ends the process after writing its temporary
///   file and before renaming it (a killed save loses nothing);
/// - `oom-above-batch=N`: every dataset batch of more than N images runs out of memory (batches
///   are split and retried);
/// - `oom-gax=N`: a GAX run runs out of memory when it comes to step N (`oom-gax`: step 1);
/// - `oom-attribute`: every attribution runs out of memory;
/// - `panic`: the command line panics as a bug would (it must exit 1 with a message, not 101).
pub const FAULT_VAR: &str = "HEATMAP_EXPLORER_FAULT";

/// The faults asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// `die-before-rename`.
    pub die_before_rename: bool,
    /// `oom-above-batch=N`.
    pub oom_above_batch: Option<usize>,
    /// `oom-gax=N`.
    pub oom_gax_step: Option<usize>,
    /// `oom-attribute`.
    pub oom_attribute: bool,
    /// `panic`.
    pub panic: bool,
}

impl Faults {
    /// Parses [`FAULT_VAR`]'s value; unknown words are ignored.
    pub fn parse(text: &str) -> Self {
        let mut f = Self::default();
        for word in text.split(',').map(str::trim) {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let n = value.parse::<usize>().ok();
            match key {
                "die-before-rename" => f.die_before_rename = true,
                "oom-above-batch" => f.oom_above_batch = n,
                "oom-gax" => f.oom_gax_step = Some(n.unwrap_or(1)),
                "oom-attribute" => f.oom_attribute = true,
                "panic" => f.panic = true,
                _ => {}
            }
        }
        f
    }

    /// These faults without the out-of-memory ones.
    pub fn without_oom(self) -> Self {
        Self { die_before_rename: self.die_before_rename, panic: self.panic, ..Self::default() }
    }
}

thread_local! {
    /// Faults set for this thread, in place of the environment's.
    static THREAD: Cell<Option<Faults>> = const { Cell::new(None) };
}

/// The faults in force on this thread: those set by [`set_for_thread`], else [`FAULT_VAR`]'s
/// (read once per process).
pub fn current() -> Faults {
    static ENV: OnceLock<Faults> = OnceLock::new();
    THREAD.get().unwrap_or_else(|| {
        *ENV.get_or_init(|| std::env::var(FAULT_VAR).map(|v| Faults::parse(&v)).unwrap_or_default())
    })
}

/// Sets this thread's faults (a worker spawned with its own), in place of the environment's.
pub fn set_for_thread(faults: Faults) {
    THREAD.set(Some(faults));
}

/// Runs `f` with the out-of-memory faults off on this thread: a job retried on the CPU after
/// running out of memory runs as the CPU would, with no injected failure.
pub fn without_oom<T>(f: impl FnOnce() -> T) -> T {
    /// Puts the thread's faults back, also when `f` panics.
    struct Restore(Option<Faults>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD.set(self.0);
        }
    }
    let _restore = Restore(THREAD.get());
    THREAD.set(Some(current().without_oom()));
    f()
}

/// Panics, as a bug would, when the faults in force ask for it (`panic`).
pub fn panic_if_asked() {
    assert!(!current().panic, "injected by {FAULT_VAR}=panic");
}

/// Where an out-of-memory fault may be injected.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Site {
    /// A dataset batch of this many images.
    Batch(usize),
    /// A GAX run coming to this step.
    GaxStep(usize),
    /// One attribution.
    Attribution,
}

/// The injected out-of-memory error for `site`, when the faults in force ask for one.
pub(crate) fn out_of_memory(site: Site) -> Result<()> {
    let f = current();
    let what = match site {
        Site::Batch(n) if f.oom_above_batch.is_some_and(|limit| n > limit) => {
            format!("a batch of {n} image(s)")
        }
        Site::GaxStep(s) if f.oom_gax_step == Some(s) => format!("GAX step {s}"),
        Site::Attribution if f.oom_attribute => "an attribution".to_owned(),
        _ => return Ok(()),
    };
    Err(Error::InjectedOutOfMemory(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_and_scopes_faults_to_the_thread() {
        let f = Faults::parse("oom-gax, oom-above-batch=2,oom-attribute,unknown");
        assert_eq!(
            f,
            Faults {
                die_before_rename: false,
                oom_above_batch: Some(2),
                oom_gax_step: Some(1),
                oom_attribute: true,
                panic: false,
            }
        );
        assert_eq!(Faults::parse("oom-gax=7").oom_gax_step, Some(7));
        std::thread::spawn(move || {
            set_for_thread(f);
            assert!(out_of_memory(Site::Batch(2)).is_ok());
            let e = out_of_memory(Site::Batch(3)).expect_err("above the limit");
            assert!(e.is_out_of_memory(), "{e}");
            assert!(out_of_memory(Site::GaxStep(1)).is_err());
            without_oom(|| {
                assert!(out_of_memory(Site::Attribution).is_ok());
                assert!(out_of_memory(Site::GaxStep(1)).is_ok());
            });
            assert!(out_of_memory(Site::Attribution).is_err(), "restored after the retry");
        })
        .join()
        .expect("thread");
    }
}

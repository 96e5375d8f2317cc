//! The background worker: one thread that owns every tch object and talks to the UI through a
//! typed protocol over crossbeam channels.

pub mod demo;
mod files;
pub mod handle;
pub mod protocol;
mod run;

pub use handle::WorkerHandle;
pub use protocol::{ClassScore, Command, Event, JobId, Recovery};

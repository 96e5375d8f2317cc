//! The single integration-test binary: real libtorch on small real models, compared with the
//! reference outputs that `make test` generates with torchvision, Captum 0.9.0 and the paper's
//! PyTorch GAX loop.

// Test data, indices and tolerances are built with plain casts of small numbers.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_lossless
)]

mod bad_inputs;
mod cli;
mod dataset;
mod decode;
mod dicom;
mod flat;
mod gax;
mod parity;
mod radiology;
mod screens;
mod slurm;
mod toy2d;
mod train;
mod ui;
mod ui_demo;
mod ui_dicom;
mod ui_faults;
mod ui_io;
mod ui_radiology;
mod ui_review;
mod util;
mod worker;

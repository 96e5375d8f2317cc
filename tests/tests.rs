//! The single integration-test binary: real libtorch on small real models, compared with the
//! reference outputs that `make test` generates with torchvision, Captum 0.9.0 and the paper's
//! PyTorch GAX loop.

mod cli;
mod dataset;
mod gax;
mod parity;
mod slurm;
mod toy2d;
mod train;
mod ui;
mod util;
mod worker;

//! The command line: parsing (`args`), one function per subcommand (`commands`, with the larger
//! ones in files of their own), and progress on stderr (`progress`). The only part of the
//! library that prints.

pub mod args;
mod bench_dicom;
pub mod cluster;
mod commands;
mod dataset;
mod image;
mod progress;
pub mod toy2d;
mod train;

pub use args::Cli;
pub use commands::run;

//! The command line: parsing (`args`) and one function per subcommand (`commands`, and files
//! of their own for the larger ones).

pub mod args;
mod bench_dicom;
pub mod cluster;
mod commands;
mod image;
pub mod toy2d;

pub use args::Cli;
pub use commands::run;

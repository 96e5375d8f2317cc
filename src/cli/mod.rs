//! The command line: parsing (`args`) and one function per subcommand (`commands`).

pub mod args;
pub mod cluster;
mod commands;
pub mod toy2d;

pub use args::Cli;
pub use commands::run;

//! The `heatmap-explorer` binary: parse the command line, run, map errors to exit codes.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    heatmap_explorer::runtime::keep_freed_memory();
    let cli = match heatmap_explorer::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match heatmap_explorer::cli::run(cli, &heatmap_explorer::open_window) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::from(e));
            std::process::ExitCode::from(1)
        }
    }
}

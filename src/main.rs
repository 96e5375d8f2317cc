//! The `heatmap-explorer` binary: parse the command line, run, map errors to exit codes (1 for
//! any failure, a panic included; 2 for a bad command line).

use std::sync::Mutex;

use clap::Parser as _;

/// The message of the first panic, kept by the hook so it is printed once, as one line.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> std::process::ExitCode {
    heatmap_explorer::runtime::keep_freed_memory();
    let cli = match heatmap_explorer::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    std::panic::set_hook(Box::new(|info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let at =
            info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let first_line = text.lines().next().unwrap_or_default();
        if let Ok(mut slot) = PANIC.lock() {
            slot.get_or_insert_with(|| format!("{first_line}{at}"));
        }
    }));
    let result = std::panic::catch_unwind(|| {
        heatmap_explorer::cli::run(cli, &heatmap_explorer::open_window)
    });
    match result {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
        Err(_) => {
            let message = PANIC.lock().ok().and_then(|mut s| s.take()).unwrap_or_default();
            eprintln!("error: internal failure (a bug, please report it): {message}");
            std::process::ExitCode::from(1)
        }
    }
}

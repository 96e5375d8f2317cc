//! heatmap-explorer: inspect how heatmap explanations raise an image classifier's confidence.
//!
//! The AX process and CO score, six Captum-identical attribution methods, GAX (a heatmap
//! optimised to raise the CO score) on a background worker, and an egui explorer, after Tjoa
//! et al., *Improving Deep Neural Network Classification Confidence using Heatmap-based
//! eXplainable AI* (arXiv 2201.00009).
//!
//! The library never prints: results come back as values and progress through callbacks; the
//! command line (`cli`) prints.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod attribution;
pub mod ax;
pub mod bench;
#[allow(clippy::print_stdout, clippy::print_stderr, reason = "the command line owns printing")]
pub mod cli;
pub mod cluster;
pub mod colormap;
pub mod convert;
pub mod dataset;
pub mod error;
pub mod gax;
pub mod input;
pub mod io;
pub mod model;
pub mod phantom;
pub mod review;
pub mod runtime;
pub mod toy2d;
pub mod train;
pub mod ui;
pub mod view_model;
pub mod worker;

pub use error::{Error, Result};

/// Opens the explorer window and blocks until it closes.
pub fn open_window(startup: app::Startup) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("heatmap-explorer")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "heatmap-explorer",
        options,
        Box::new(move |cc| {
            let app = match app::settings::FileStorage::default_path() {
                Some(p) => app::App::with_settings_file(
                    &cc.egui_ctx,
                    startup,
                    app::settings::FileStorage::open(p),
                )?,
                None => app::App::from_creation(cc, startup)?,
            };
            Ok(Box::new(app) as Box<dyn eframe::App>)
        }),
    )
    .map_err(|e| Error::invalid(format!("could not open the window: {e}")))
}

//! `bench dicom --file F[,F...] [--steps N]`: the time to read a DICOM file, parse and decode it,
//! and window it with the file's VOI (what opening it in the explorer costs before drawing), the
//! median of N runs. `bench/dicom_open.sh` prints it beside pydicom's time for the same work.

use std::path::Path;
use std::time::Instant;

use hx_formats::{DicomFile, Window};

use super::args::BenchArgs;
use crate::error::{Error, Result};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the benchmark and prints one line per file.
pub fn run(a: &BenchArgs) -> Result<()> {
    let files = a.file.as_deref().ok_or_else(|| Error::invalid("bench dicom needs --file F"))?;
    println!("# heatmap-explorer bench dicom (read + open + window with the file's VOI)");
    for f in files.split(',').map(str::trim) {
        let path = Path::new(f);
        let (mut open_ms, mut window_ms, mut total_ms) = (Vec::new(), Vec::new(), Vec::new());
        let mut facts = None;
        for _ in 0..a.steps.max(1) {
            let t0 = Instant::now();
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let d = DicomFile::open(&bytes)
                .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
            let t1 = Instant::now();
            let r = d
                .render(0, &Window::File)
                .map_err(|e| Error::Image { path: path.to_owned(), message: e.to_string() })?;
            let t2 = Instant::now();
            std::hint::black_box(&r.data);
            open_ms.push((t1 - t0).as_secs_f64() * 1e3);
            window_ms.push((t2 - t1).as_secs_f64() * 1e3);
            total_ms.push((t2 - t0).as_secs_f64() * 1e3);
            facts.get_or_insert_with(|| d.facts().clone());
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let desc = facts.map_or_else(String::new, |f| {
            format!(
                "{}×{}, {} bits stored, {}",
                f.columns, f.rows, f.bits_stored, f.transfer_syntax
            )
        });
        println!(
            "ours dicom {name} ({desc}): read+open {:.1} ms, window {:.1} ms, total {:.1} ms (median of {})",
            median(open_ms),
            median(window_ms),
            median(total_ms),
            a.steps.max(1)
        );
    }
    Ok(())
}

//! Files in and out: images, NumPy arrays, CSV, run files; the tests' fault injection.

pub mod dicom;
pub mod fault;
pub mod image;
pub mod npy;
pub mod runfile;

pub use fault::FAULT_VAR;

/// Writes `bytes` to `path` atomically: a uniquely named temporary file in the same folder,
/// written and synced, then renamed over `path`, so a kill at any point leaves either the old
/// file or the new one, never a partial one.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::error::Error;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir =
        path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    // Fault injection for the tests: die as a kill would, between the write and the rename.
    if fault::current().die_before_rename {
        std::process::abort();
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

//! The worker's cache of opened DICOM files: a window or frame change renders the model input
//! again from the parsed file (whose modality values of the last frame stay decoded) instead of
//! reading and decoding the file again. Other formats are cheap to decode and are not kept.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use hx_formats::DicomFile;

use crate::error::{Error, Result};
use crate::input::{self, LoadOptions, Opened};
use crate::io::dicom::DicomSource;
use crate::io::image::Image;

/// How many DICOM files stay parsed (a 16-bit chest radiograph holds about 40 MB decoded).
const KEEP: usize = 4;

/// A file's length and modification time: a changed file is read again.
type Stamp = (u64, Option<SystemTime>);

fn stamp(path: &Path) -> Result<Stamp> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok((m.len(), m.modified().ok()))
}

struct Cached {
    path: PathBuf,
    stamp: Stamp,
    file: Box<DicomFile>,
    /// The UI's data of the last frame asked for (None inside: a colour file).
    source: Option<(usize, Option<Arc<DicomSource>>)>,
}

/// Recently opened DICOM files, newest first.
#[derive(Default)]
pub struct OpenFiles {
    cached: VecDeque<Cached>,
}

impl OpenFiles {
    /// The model input of `path` at `size` under `options`, and for a grayscale DICOM file its
    /// frame's data for the UI. Equal, value for value, to [`input::load_image_with`].
    pub fn load(
        &mut self,
        path: &Path,
        size: [usize; 2],
        options: &LoadOptions,
    ) -> Result<(Image, Option<Arc<DicomSource>>)> {
        let stamp = stamp(path)?;
        let hit = self.cached.iter().position(|c| c.path == path && c.stamp == stamp);
        let mut c = match hit.and_then(|i| self.cached.remove(i)) {
            Some(c) => c,
            None => match input::open(path)? {
                Opened::Raster(r) => {
                    let raster = Opened::Raster(r).render(path, options)?;
                    return Ok((input::resize(&raster, size)?, None));
                }
                Opened::Dicom(file) => Cached { path: path.to_owned(), stamp, file, source: None },
            },
        };
        let result = Self::render(&mut c, size, options);
        self.cached.push_front(c);
        self.cached.truncate(KEEP);
        result
    }

    fn render(
        c: &mut Cached,
        size: [usize; 2],
        options: &LoadOptions,
    ) -> Result<(Image, Option<Arc<DicomSource>>)> {
        let raster = c
            .file
            .render(options.frame, &options.window)
            .map_err(|e| Error::Image { path: c.path.clone(), message: e.to_string() })?;
        let image = input::resize(&raster, size)?;
        let source = match &c.source {
            Some((frame, s)) if *frame == options.frame => s.clone(),
            _ => {
                let s = DicomSource::of(&c.file, options.frame)?.map(Arc::new);
                c.source = Some((options.frame, s.clone()));
                s
            }
        };
        Ok((image, source))
    }
}

//! Listing an ImageFolder tree: one subfolder per class, images found recursively, class
//! indices matched to the model's labels; or, for one output of a multi-label model, the
//! per-pathology layout `PATHOLOGY/positive`, `PATHOLOGY/negative` (labels 1 and 0).

use std::path::{Path, PathBuf};

use crate::convert::to_i64;
use crate::error::{Error, Result};

const EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif", "webp"];

/// One image of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Path relative to the data folder, `/`-separated (the CSV's `image`).
    pub rel: String,
    /// Full path.
    pub path: PathBuf,
    /// Class index.
    pub label: i64,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        || crate::input::looks_like_dicom_file(p)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn walk_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in sorted_entries(dir)? {
        if p.is_dir() {
            walk_images(&p, out)?;
        } else if is_image(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Every image and DICOM file under `dir`, recursively, sorted by path (a review folder has no
/// class subfolders).
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    walk_images(dir, &mut out)?;
    if out.is_empty() {
        return Err(Error::invalid(format!("{}: no images or DICOM files", dir.display())));
    }
    Ok(out)
}

/// Lists an ImageFolder tree. Class indices come from matching subfolder names to the model's
/// labels (case-insensitive) when all of them match, else from the sorted folder names.
pub fn scan(dir: &Path, labels: &[String]) -> Result<Vec<Item>> {
    // `masks/` holds lesion masks beside the class folders (the phantom layout), not a class.
    let folders: Vec<PathBuf> =
        sorted_entries(dir)?.into_iter().filter(|p| p.is_dir() && !p.ends_with("masks")).collect();
    let names: Vec<String> = folders
        .iter()
        .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    if folders.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no class subfolders (expected e.g. NORMAL/ and PNEUMONIA/)",
            dir.display()
        )));
    }
    let by_label: Option<Vec<i64>> = names
        .iter()
        .map(|n| labels.iter().position(|l| l.eq_ignore_ascii_case(n)).map(to_i64))
        .collect();
    let indices = match by_label {
        Some(v) => v,
        None if names.len() <= labels.len() => (0..names.len()).map(to_i64).collect(),
        None => {
            return Err(Error::invalid(format!(
                "{}: {} class folders ({}) but the model has {} classes",
                dir.display(),
                names.len(),
                names.join(", "),
                labels.len()
            )));
        }
    };
    let mut items = Vec::new();
    for ((folder, name), label) in folders.iter().zip(&names).zip(indices) {
        let mut files = Vec::new();
        walk_images(folder, &mut files)?;
        for path in files {
            let rel_tail = path
                .strip_prefix(folder)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            items.push(Item { rel: format!("{name}/{rel_tail}"), path, label });
        }
    }
    if items.is_empty() {
        return Err(Error::invalid(format!("{}: no images in the class folders", dir.display())));
    }
    // In the CSV's order (the `image` string), so a run's file is sorted as `merge` sorts.
    items.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(items)
}

/// Lists the per-pathology layout of `pathology` (one of a multi-label model's outputs):
/// `DIR/PATHOLOGY/positive/**` (label 1) and `DIR/PATHOLOGY/negative/**` (label 0), the folder
/// names matched case-insensitively (a space in the pathology may be written `_`). Other
/// pathologies' folders are left alone.
pub fn scan_pathology(dir: &Path, pathology: &str) -> Result<Vec<Item>> {
    let same = |name: &str| {
        let norm = |s: &str| s.to_ascii_lowercase().replace(' ', "_");
        norm(name) == norm(pathology)
    };
    let folder = sorted_entries(dir)?
        .into_iter()
        .find(|p| p.is_dir() && p.file_name().is_some_and(|n| same(&n.to_string_lossy())))
        .ok_or_else(|| {
            Error::invalid(format!(
                "{}: no folder for '{pathology}' (expected {pathology}/positive and \
                 {pathology}/negative)",
                dir.display()
            ))
        })?;
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut items = Vec::new();
    for (sub, label) in [("negative", 0), ("positive", 1)] {
        let Some(d) = sorted_entries(&folder)?.into_iter().find(|p| {
            p.is_dir()
                && p.file_name().is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(sub))
        }) else {
            continue;
        };
        let sub_name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut files = Vec::new();
        walk_images(&d, &mut files)?;
        for path in files {
            let tail = path
                .strip_prefix(&d)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            items.push(Item { rel: format!("{name}/{sub_name}/{tail}"), path, label });
        }
    }
    if items.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no images in {name}/positive or {name}/negative",
            dir.display()
        )));
    }
    items.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(items)
}

//! A labels CSV for one output of a multi-label model (SPEC §10), the alternative to the
//! `PATHOLOGY/positive|negative` folder layout: a header `image,<pathology>,...` and one row per
//! image, its path relative to the data folder and 0 or 1 per pathology (`1.0`/`0.0` read the
//! same). Only the chosen pathology's column is read; every value in it must be 0 or 1 and every
//! image must exist.

use std::collections::HashSet;
use std::path::{Component, Path};

use super::scan::Item;
use crate::error::{Error, Result};

/// Whether a column name names `pathology`: equal ignoring case, a space written `_` or not.
fn same(column: &str, pathology: &str) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace(' ', "_");
    norm(column) == norm(pathology)
}

/// A cell as a label: 0 or 1 (`0.0`, `1.0` too), else `None`.
fn label(cell: &str) -> Option<i64> {
    match cell.trim().parse::<f64>() {
        Ok(0.0) => Some(0),
        Ok(1.0) => Some(1),
        _ => None,
    }
}

/// Lists the images of `csv` (paths relative to `dir`) labelled 1 or 0 for `pathology`, in the
/// order of their relative paths.
pub fn scan_labels_csv(dir: &Path, csv_path: &Path, pathology: &str) -> Result<Vec<Item>> {
    let bytes = std::fs::read(csv_path).map_err(|e| Error::io(csv_path, e))?;
    let bad = |m: String| Error::format(csv_path, m);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(&bytes[..]);
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    if !header.get(0).is_some_and(|c| c.trim().eq_ignore_ascii_case("image")) {
        return Err(bad(format!(
            "the first column must be 'image' (header image,<pathology>,...; found '{}')",
            header.iter().collect::<Vec<_>>().join(",")
        )));
    }
    let column = header.iter().skip(1).position(|c| same(c, pathology)).map(|i| i + 1);
    let column = column.ok_or_else(|| {
        bad(format!(
            "no column for '{pathology}'; columns: {}",
            header.iter().skip(1).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let name = header.get(column).unwrap_or(pathology).trim().to_owned();
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let line = record.position().map_or(0, csv::Position::line);
        let rel = record.get(0).unwrap_or("").trim().replace('\\', "/");
        if rel.is_empty() {
            return Err(bad(format!("line {line}: no image path")));
        }
        let path = Path::new(&rel);
        if !path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(bad(format!(
                "line {line}: '{rel}' must be a path inside the data folder (relative, no '..')"
            )));
        }
        let cell = record.get(column).unwrap_or("");
        let Some(label) = label(cell) else {
            return Err(bad(format!(
                "line {line}: {name} is '{}' for '{rel}'; labels must be 0 or 1 \
                 (leave uncertain or unlabelled images out of the file)",
                cell.trim()
            )));
        };
        let full = dir.join(path);
        if !full.is_file() {
            return Err(bad(format!("line {line}: '{rel}' is not a file in {}", dir.display())));
        }
        if !seen.insert(rel.clone()) {
            return Err(bad(format!("line {line}: '{rel}' is listed twice")));
        }
        items.push(Item { rel, path: full, label });
    }
    if items.is_empty() {
        return Err(bad("no images listed".to_owned()));
    }
    items.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(csv: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["a.png", "sub/b.png"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
            std::fs::write(p, b"x").expect("file");
        }
        let path = dir.path().join("labels.csv");
        std::fs::write(&path, csv).expect("csv");
        (dir, path)
    }

    fn error(csv: &str, pathology: &str) -> String {
        let (dir, path) = setup(csv);
        scan_labels_csv(dir.path(), &path, pathology)
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn reads_one_pathology_column() {
        let (dir, path) = setup("image,Effusion,Lung Opacity\nsub/b.png,0,1\na.png,1.0,\n");
        let items = scan_labels_csv(dir.path(), &path, "lung_opacity");
        assert!(items.is_err(), "an empty cell in the chosen column is refused");
        let items = scan_labels_csv(dir.path(), &path, "effusion").expect("effusion");
        let got: Vec<(&str, i64)> = items.iter().map(|i| (i.rel.as_str(), i.label)).collect();
        assert_eq!(got, [("a.png", 1), ("sub/b.png", 0)]);
        assert_eq!(items[1].path, dir.path().join("sub/b.png"));
    }

    #[test]
    fn clear_errors() {
        let e = error("image,Effusion\na.png,1\n", "Pneumonia");
        assert!(e.contains("no column for 'Pneumonia'; columns: Effusion"), "{e}");
        let e = error("file,Effusion\na.png,1\n", "Effusion");
        assert!(e.contains("first column must be 'image'"), "{e}");
        let e = error("image,Effusion\na.png,-1\n", "Effusion");
        assert!(e.contains("line 2: Effusion is '-1' for 'a.png'; labels must be 0 or 1"), "{e}");
        let e = error("image,Effusion\na.png,1\nc.png,0\n", "Effusion");
        assert!(e.contains("line 3: 'c.png' is not a file"), "{e}");
        let e = error("image,Effusion\na.png,1\na.png,0\n", "Effusion");
        assert!(e.contains("listed twice"), "{e}");
        let e = error("image,Effusion\n../a.png,1\n", "Effusion");
        assert!(e.contains("inside the data folder"), "{e}");
        assert!(error("image,Effusion\n", "Effusion").contains("no images listed"));
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = scan_labels_csv(dir.path(), &dir.path().join("none.csv"), "Effusion");
        assert!(matches!(missing, Err(Error::Io { .. })), "{missing:?}");
    }
}

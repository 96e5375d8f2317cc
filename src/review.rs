//! The review queue of a folder of studies as plain data: each case's reading marks (status,
//! flag, note, when it was reviewed) and the model's scores, the orderings, the state saved
//! beside the folder as `<folder>.review.json` (written atomically after every change, so a
//! crash loses at most the note being typed; its types and parsing are `hx_formats::review`,
//! fuzzed without libtorch) and the CSV export. Nothing here holds or writes
//! an identifier from a DICOM header: cases are named by their path inside the folder.

use std::path::{Path, PathBuf};

pub use hx_formats::review::{CaseStatus, Marks, ReviewError, Saved};

use crate::error::{Error, Result};
use crate::worker::ClassScore;

/// The model's view of a case (computed in the background, not saved).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// Every class's logit and probability, class order.
    pub classes: Vec<ClassScore>,
    /// The CO score (sum variant) of the chosen method on the predicted class, if asked for.
    pub co: Option<f32>,
}

impl Scores {
    /// The predicted class and its probability.
    pub fn best(&self) -> Option<&ClassScore> {
        self.classes.iter().max_by(|a, b| a.logit.total_cmp(&b.logit))
    }
}

/// One study of the folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Its path inside the folder, `/`-separated.
    pub rel: String,
    /// Its full path.
    pub path: PathBuf,
    /// What the reader recorded.
    pub marks: Marks,
    /// The model's scores, once computed; `Err` says why the file could not be scored.
    pub scores: Option<std::result::Result<Scores, String>>,
}

/// How the queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// By path.
    #[default]
    File,
    /// By the probability of a class, highest first.
    Score(i64),
    /// By the top probability, lowest first (the model's least certain cases first).
    Confidence,
    /// By the chosen method's CO score, highest first.
    Co,
}

/// The queue: cases in `order`, unscored cases last, ties by path. Returns case indices.
pub fn ordered(cases: &[Case], order: Order) -> Vec<usize> {
    let key = |c: &Case| -> Option<f32> {
        let s = c.scores.as_ref()?.as_ref().ok()?;
        match order {
            Order::File => Some(0.0),
            Order::Score(k) => s.classes.iter().find(|x| x.class == k).map(|x| -x.prob),
            Order::Confidence => s.best().map(|x| x.prob),
            Order::Co => s.co.map(|v| -v),
        }
    };
    let mut idx: Vec<usize> = (0..cases.len()).collect();
    idx.sort_by(|&a, &b| {
        let (ka, kb) = (key(&cases[a]), key(&cases[b]));
        let by_key = match (ka, kb) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_key.then_with(|| cases[a].rel.cmp(&cases[b].rel))
    });
    idx
}

/// Where the review of `folder` is saved: `<folder>.review.json` beside it.
pub fn state_path(folder: &Path) -> PathBuf {
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    folder.with_file_name(format!("{name}.review.json"))
}

/// Reads the saved review of `folder` (an empty one when there is none yet).
pub fn load(folder: &Path) -> Result<Saved> {
    let p = state_path(folder);
    match std::fs::read(&p) {
        Ok(bytes) => Saved::parse(&bytes).map_err(|e| Error::format(&p, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Saved::empty()),
        Err(e) => Err(Error::io(&p, e)),
    }
}

/// The saved form of `cases` with `current` on show.
pub fn saved(cases: &[Case], current: Option<&Case>) -> Saved {
    Saved {
        version: hx_formats::review::VERSION,
        cases: cases
            .iter()
            .filter(|c| c.marks != Marks::default())
            .map(|c| (c.rel.clone(), c.marks.clone()))
            .collect(),
        current: current.map(|c| c.rel.clone()),
    }
}

/// Writes `state` for `folder` atomically (temporary file, sync, rename).
pub fn save(folder: &Path, state: &Saved) -> Result<()> {
    let path = state_path(folder);
    let bytes = state.to_json().map_err(|e| Error::format(&path, e.to_string()))?;
    crate::io::write_atomic(&path, &bytes)
}

/// The cases of `folder`: every image and DICOM file under it, by path, with their saved marks.
pub fn cases(folder: &Path, saved: &Saved) -> Result<Vec<Case>> {
    let files = crate::dataset::list_images(folder)?;
    Ok(files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(folder)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let marks = saved.cases.get(&rel).cloned().unwrap_or_default();
            Case { rel, path, marks, scores: None }
        })
        .collect())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The review as CSV: `file,status,flag,note,predicted_class,score,reviewed_at`, in `order`.
/// `class_name` names a class index. No identifiers: only the case paths.
pub fn csv(cases: &[Case], order: &[usize], class_name: &dyn Fn(i64) -> String) -> String {
    let mut out = String::from("file,status,flag,note,predicted_class,score,reviewed_at\n");
    for &i in order {
        let Some(c) = cases.get(i) else { continue };
        let best = c.scores.as_ref().and_then(|s| s.as_ref().ok()).and_then(Scores::best);
        let row = [
            csv_field(&c.rel),
            c.marks.status.name().to_owned(),
            c.marks.flag.to_string(),
            csv_field(&c.marks.note),
            best.map_or_else(String::new, |b| csv_field(&class_name(b.class))),
            best.map_or_else(String::new, |b| format!("{:.6}", b.prob)),
            c.marks.reviewed_at.clone().unwrap_or_default(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// `secs` since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn utc_timestamp(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, on unsigned days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Now, as [`utc_timestamp`].
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_timestamp(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(rel: &str, probs: Option<[f32; 2]>, co: Option<f32>) -> Case {
        Case {
            rel: rel.to_owned(),
            path: PathBuf::from(rel),
            marks: Marks::default(),
            scores: probs.map(|p| {
                Ok(Scores {
                    classes: p
                        .iter()
                        .zip(0..)
                        .map(|(&v, k)| ClassScore { class: k, logit: v, prob: v })
                        .collect(),
                    co,
                })
            }),
        }
    }

    #[test]
    fn orders_by_score_confidence_and_co() {
        let cases = vec![
            case("c", Some([0.2, 0.8]), Some(1.0)),
            case("a", Some([0.6, 0.4]), Some(3.0)),
            case("b", None, None),
            case("d", Some([0.9, 0.1]), None),
        ];
        assert_eq!(ordered(&cases, Order::File), [1, 0, 3, 2]);
        assert_eq!(ordered(&cases, Order::Score(1)), [0, 1, 3, 2]);
        assert_eq!(ordered(&cases, Order::Score(0)), [3, 1, 0, 2]);
        // Least certain first: a (0.6), c (0.8), d (0.9), then the unscored.
        assert_eq!(ordered(&cases, Order::Confidence), [1, 0, 3, 2]);
        assert_eq!(ordered(&cases, Order::Co), [1, 0, 2, 3]);
    }

    #[test]
    fn csv_quotes_notes_and_names_the_prediction() {
        let mut cases = vec![case("x/1.dcm", Some([0.25, 0.75]), None), case("2.png", None, None)];
        cases[0].marks = Marks {
            status: CaseStatus::Reviewed,
            flag: true,
            note: "left apex, \"faint\"".into(),
            reviewed_at: Some("2026-12-04T12:00:00Z".into()),
        };
        let text = csv(&cases, &[0, 1], &|k| format!("class {k}"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "file,status,flag,note,predicted_class,score,reviewed_at");
        assert_eq!(
            lines[1],
            "x/1.dcm,reviewed,true,\"left apex, \"\"faint\"\"\",class 1,0.750000,2026-12-04T12:00:00Z"
        );
        assert_eq!(lines[2], "2.png,unread,false,,,,");
    }

    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_796_386_245), "2026-12-04T12:10:45Z");
    }

    #[test]
    fn saves_beside_the_folder_and_loads_back() {
        let dir = std::env::temp_dir().join(format!("hx-review-{}", std::process::id()));
        let folder = dir.join("studies");
        std::fs::create_dir_all(&folder).expect("mkdir");
        assert_eq!(state_path(&folder), dir.join("studies.review.json"));
        assert_eq!(load(&folder).expect("none yet"), Saved { version: 1, ..Saved::default() });
        let mut cases = vec![case("a.png", None, None), case("b.png", None, None)];
        cases[1].marks.flag = true;
        cases[1].marks.note = "check".into();
        let s = saved(&cases, Some(&cases[1]));
        save(&folder, &s).expect("save");
        let back = load(&folder).expect("load");
        assert_eq!(back, s);
        assert_eq!(back.cases.len(), 1, "only cases with marks are written");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

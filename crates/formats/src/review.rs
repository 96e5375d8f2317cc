//! The saved state of a review (`<folder>.review.json` beside a folder of studies): each case's
//! reading marks by its path inside the folder, and the case on show. Bytes in, checked plain
//! data out; the main crate keeps the queue, the orderings and the writing.
//!
//! A file is read whole or refused: a mistyped field, another format version, a case path that
//! could not name a file inside the folder or a time that is not the UTC form this program
//! writes all come back as a [`ReviewError`], so a corrupt or hand-edited file is never
//! half-applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format version this program reads and writes.
pub const VERSION: u32 = 1;

/// Why bytes are not a readable review state.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    /// Not JSON, or JSON of another shape (a missing or mistyped field).
    #[error("not a review file: {0}")]
    NotAReview(String),
    /// Another format version.
    #[error("review format version {0} is not supported (this program reads version {VERSION})")]
    Version(u32),
    /// A case path that cannot name a file inside the folder.
    #[error(
        "case path {0:?} is not a '/'-separated relative path inside the folder (no empty, '.' \
         or '..' parts)"
    )]
    CasePath(String),
    /// A review time that is not `YYYY-MM-DDTHH:MM:SSZ`.
    #[error("reviewed_at {0:?} is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ")]
    Time(String),
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// Not read yet.
    #[default]
    Unread,
    /// Read and marked reviewed.
    Reviewed,
}

impl CaseStatus {
    /// The word used in lists and the CSV.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unread => "unread",
            Self::Reviewed => "reviewed",
        }
    }
}

/// What the reader recorded on a case (saved).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Marks {
    /// Unread or reviewed.
    pub status: CaseStatus,
    /// Flagged for attention.
    pub flag: bool,
    /// The reader's note.
    pub note: String,
    /// When it was marked reviewed, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub reviewed_at: Option<String>,
}

/// The saved state of a review: marks by case path, and where the reader was.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Saved {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Marks by case path.
    pub cases: BTreeMap<String, Marks>,
    /// The case on show when last saved.
    pub current: Option<String>,
}

impl Saved {
    /// A review with no marks yet, in the current format.
    pub fn empty() -> Self {
        Self { version: VERSION, ..Self::default() }
    }

    /// Parses and checks a saved review (see [`Saved::check`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, ReviewError> {
        let saved: Self =
            serde_json::from_slice(bytes).map_err(|e| ReviewError::NotAReview(e.to_string()))?;
        saved.check()?;
        Ok(saved)
    }

    /// The first thing that makes this state unreadable: another version, a case path (key
    /// or `current`) that is not a relative path inside the folder, a malformed review time.
    pub fn check(&self) -> Result<(), ReviewError> {
        if self.version != VERSION {
            return Err(ReviewError::Version(self.version));
        }
        for (rel, marks) in &self.cases {
            check_rel(rel)?;
            if let Some(t) = &marks.reviewed_at {
                check_time(t)?;
            }
        }
        self.current.as_deref().map_or(Ok(()), check_rel)
    }

    /// The state as pretty JSON (what [`Saved::parse`] reads back).
    pub fn to_json(&self) -> Result<Vec<u8>, ReviewError> {
        serde_json::to_vec_pretty(self).map_err(|e| ReviewError::NotAReview(e.to_string()))
    }
}

/// `rel` when it is a `/`-separated relative path with no empty, `.` or `..` part and no NUL
/// or backslash (what the main crate writes for a file under the folder).
pub fn check_rel(rel: &str) -> Result<(), ReviewError> {
    let bad_part = |p: &str| p.is_empty() || p == "." || p == "..";
    if rel.contains(['\0', '\\']) || rel.split('/').any(bad_part) {
        return Err(ReviewError::CasePath(rel.to_owned()));
    }
    Ok(())
}

/// `t` when it has the form `YYYY-MM-DDTHH:MM:SSZ` with a month, day, hour, minute and second
/// in range (the day is not checked against the month).
pub fn check_time(t: &str) -> Result<(), ReviewError> {
    let bad = || ReviewError::Time(t.to_owned());
    let b = t.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    if b.len() != shape.len()
        || !b.iter().zip(shape).all(|(c, s)| if *s == b'd' { c.is_ascii_digit() } else { c == s })
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| t.get(r).and_then(|s| s.parse::<u32>().ok());
    let ranges =
        [(5..7, 1..=12), (8..10, 1..=31), (11..13, 0..=23), (14..16, 0..=59), (17..19, 0..=60)];
    if ranges.into_iter().all(|(at, ok)| num(at).is_some_and(|v| ok.contains(&v))) {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_review_reads_back() {
        let mut s = Saved::empty();
        s.cases.insert(
            "x/1.dcm".into(),
            Marks {
                status: CaseStatus::Reviewed,
                flag: true,
                note: "left apex, \"faint\"\n".into(),
                reviewed_at: Some("2026-12-04T12:00:00Z".into()),
            },
        );
        s.current = Some("x/1.dcm".into());
        let back = Saved::parse(&s.to_json().expect("json")).expect("parse");
        assert_eq!(back, s);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let parse = |t: &str| Saved::parse(t.as_bytes()).expect_err(t);
        assert!(matches!(parse("{"), ReviewError::NotAReview(_)));
        assert!(matches!(parse(r#"{"version": 1}"#), ReviewError::NotAReview(_)));
        assert_eq!(parse(r#"{"version": 2, "cases": {}}"#), ReviewError::Version(2));
        for rel in ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b"] {
            let text = format!(r#"{{"version": 1, "cases": {{}}, "current": {rel:?}}}"#);
            assert_eq!(parse(&text), ReviewError::CasePath(rel.to_owned()), "{rel}");
        }
        let marks = r#"{"status": "reviewed", "flag": false, "note": "", "reviewed_at": "#;
        for t in ["2026-12-04 12:00:00Z", "2026-13-04T12:00:00Z", "2026-12-04T12:00:00", "１"] {
            let text = format!(r#"{{"version": 1, "cases": {{"a.png": {marks}{t:?}}}}}}}"#);
            assert_eq!(parse(&text), ReviewError::Time(t.to_owned()), "{t}");
        }
        assert!(Saved::parse(br#"{"version": 1, "cases": {}, "current": null}"#).is_ok());
    }
}

//! The VOI choice of SPEC §9 (`--window`): which window turns modality values into [0, 1], and
//! the VOI LUT functions of PS3.3 C.11.2.1.2.

use std::fmt;
use std::str::FromStr;

use crate::error::DecodeError;

/// Which VOI to apply to a grayscale DICOM frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Window {
    /// The file's first VOI preset (its VOI LUT Sequence if present, else its first window
    /// center/width); `Auto` when the file has none.
    #[default]
    File,
    /// The file's preset number N (0-based, in [`super::DicomFile::presets`] order: VOI LUTs
    /// first, then window center/width pairs); `FileN(0)` is `File`.
    FileN(usize),
    /// A custom center and width, LINEAR function (width ≥ 1).
    Custom {
        /// Window center.
        center: f64,
        /// Window width.
        width: f64,
    },
    /// The minimum to the maximum of the frame's modality values.
    Auto,
    /// The P-th to the (100 − P)-th percentile of the frame's modality values (NumPy's linear
    /// interpolation), 0 ≤ P < 50.
    Percentile(f64),
}

impl Window {
    /// A custom LINEAR window, checked: finite values and a width of at least 1.
    pub fn custom(center: f64, width: f64) -> Result<Self, DecodeError> {
        if !center.is_finite() || !width.is_finite() {
            return Err(DecodeError::Window(format!(
                "center {center} and width {width} must be finite"
            )));
        }
        if width < 1.0 {
            return Err(DecodeError::Window(format!(
                "width {width} is below 1 (a LINEAR window needs a width of at least 1)"
            )));
        }
        Ok(Self::Custom { center, width })
    }

    /// A percentile window, checked: 0 ≤ P < 50.
    pub fn percentile(p: f64) -> Result<Self, DecodeError> {
        if !(0.0..50.0).contains(&p) {
            return Err(DecodeError::Window(format!(
                "percentile {p} must be at least 0 and below 50"
            )));
        }
        Ok(Self::Percentile(p))
    }
}

impl FromStr for Window {
    type Err = DecodeError;

    /// Parses the command-line syntax: `file`, `file:N`, `C,W`, `auto` or `pP` (e.g. `p1`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || {
            DecodeError::Window(format!(
                "'{s}': expected file, file:N, auto, pP (e.g. p1) or CENTER,WIDTH (e.g. 40,400)"
            ))
        };
        match t.to_ascii_lowercase().as_str() {
            "file" => return Ok(Self::File),
            "auto" => return Ok(Self::Auto),
            _ => {}
        }
        if let Some(n) = t.strip_prefix("file:") {
            return n.trim().parse().map(Self::FileN).map_err(|_| bad());
        }
        if let Some(p) = t.strip_prefix(['p', 'P']) {
            return Self::percentile(p.trim().parse().map_err(|_| bad())?);
        }
        if let Some((c, w)) = t.split_once(',') {
            let c: f64 = c.trim().parse().map_err(|_| bad())?;
            let w: f64 = w.trim().parse().map_err(|_| bad())?;
            return Self::custom(c, w);
        }
        Err(bad())
    }
}

impl fmt::Display for Window {
    /// The command-line syntax that parses back to the same window.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => f.write_str("file"),
            Self::FileN(n) => write!(f, "file:{n}"),
            Self::Custom { center, width } => write!(f, "{center},{width}"),
            Self::Auto => f.write_str("auto"),
            Self::Percentile(p) => write!(f, "p{p}"),
        }
    }
}

/// The VOI LUT Function (0028,1056) of a window center/width pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiFunction {
    /// PS3.3 C.11.2.1.2.1: center − 0.5 and width − 1.
    #[default]
    Linear,
    /// PS3.3 C.11.2.1.3.2: center and width as given.
    LinearExact,
    /// PS3.3 C.11.2.1.3.1: 1 / (1 + exp(−4 (x − c) / w)).
    Sigmoid,
}

impl VoiFunction {
    /// The DICOM name: `LINEAR`, `LINEAR_EXACT` or `SIGMOID`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "LINEAR",
            Self::LinearExact => "LINEAR_EXACT",
            Self::Sigmoid => "SIGMOID",
        }
    }

    /// Parses a DICOM name (case-insensitive); None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LINEAR" => Some(Self::Linear),
            "LINEAR_EXACT" => Some(Self::LinearExact),
            "SIGMOID" => Some(Self::Sigmoid),
            _ => None,
        }
    }

    /// Whether `width` is usable with this function (pydicom's checks: ≥ 1 for LINEAR, > 0
    /// otherwise).
    pub fn accepts_width(self, width: f64) -> bool {
        width.is_finite() && if self == Self::Linear { width >= 1.0 } else { width > 0.0 }
    }

    /// The window applied to one modality value, in [0, 1].
    pub fn apply(self, v: f64, center: f64, width: f64) -> f64 {
        let (c, w) = match self {
            Self::Sigmoid => return 1.0 / (1.0 + (-4.0 * (v - center) / width).exp()),
            Self::Linear => (center - 0.5, width - 1.0),
            Self::LinearExact => (center, width),
        };
        if v <= c - w / 2.0 {
            0.0
        } else if v > c + w / 2.0 {
            1.0
        } else {
            (v - c) / w + 0.5
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_form() {
        for (s, w) in [
            ("file", Window::File),
            ("FILE", Window::File),
            ("file:2", Window::FileN(2)),
            ("auto", Window::Auto),
            ("p1", Window::Percentile(1.0)),
            ("p0.5", Window::Percentile(0.5)),
            ("40,400", Window::Custom { center: 40.0, width: 400.0 }),
            ("-600, 1500", Window::Custom { center: -600.0, width: 1500.0 }),
        ] {
            let parsed: Window = s.parse().expect(s);
            assert_eq!(parsed, w, "{s}");
            assert_eq!(parsed.to_string().parse::<Window>().expect("round trip"), w);
        }
        for bad in ["", "files", "file:x", "p50", "p-1", "40", "40,0.5", "a,b", "nan,10"] {
            let e = bad.parse::<Window>().expect_err(bad);
            assert!(matches!(e, DecodeError::Window(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn functions_follow_ps3_3() {
        // LINEAR, c = 100, w = 11: below 94.5 − ... is 0, above 105 is 1, linear between.
        let lin = VoiFunction::Linear;
        assert_eq!(lin.apply(94.0, 100.0, 11.0), 0.0);
        assert_eq!(lin.apply(106.0, 100.0, 11.0), 1.0);
        assert!((lin.apply(99.5, 100.0, 11.0) - 0.5).abs() < 1e-12);
        // Width 1 is a threshold with no division.
        assert_eq!(lin.apply(99.0, 100.0, 1.0), 0.0);
        assert_eq!(lin.apply(100.0, 100.0, 1.0), 1.0);
        let ex = VoiFunction::LinearExact;
        assert!((ex.apply(100.0, 100.0, 10.0) - 0.5).abs() < 1e-12);
        assert_eq!(ex.apply(95.0, 100.0, 10.0), 0.0);
        let sig = VoiFunction::Sigmoid;
        assert!((sig.apply(100.0, 100.0, 10.0) - 0.5).abs() < 1e-12);
        assert!(sig.apply(200.0, 100.0, 10.0) > 0.999);
        assert!(!lin.accepts_width(0.5) && ex.accepts_width(0.5) && !sig.accepts_width(0.0));
    }
}

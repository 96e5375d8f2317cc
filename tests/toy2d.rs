//! The paper's 2-D example against its peers (the values its figures plot, and PyTorch's
//! autograd ascent: the committed fixture `tests/reference/toy2d_figure.csv`, written by
//! `tests/reference/toy2d_figure.py`), and the `toy2d` subcommand as users run it.

use std::path::Path;
use std::process::Command;

use heatmap_explorer::toy2d::{self, CSV_HEADER, Params};

use crate::util::temp_dir;

fn read_csv(path: &Path) -> (String, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).expect("csv");
    let mut lines = text.lines();
    let header = lines.next().expect("header").to_owned();
    let rows = lines.map(|l| l.split(',').map(|v| v.parse().expect("number")).collect()).collect();
    (header, rows)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Our closed form with kη = 1.44 reproduces the three panels of Figures 1 and 6 as the paper's
/// code plotted them, and our autograd ascent (5 steps, kη = 1.2) PyTorch's.
#[test]
fn figures_match_the_papers_plotting_code_and_pytorch() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/toy2d_figure.csv");
    let (header, rows) = read_csv(&fixture);
    assert_eq!(header, "a1,theta,x1,x2,h1_plotted,h2_plotted,h1_torch,h2_torch");
    for a1 in toy2d::A1_PRESETS {
        let panel: Vec<_> = rows.iter().filter(|r| r[0] == a1).collect();
        assert_eq!(panel.len(), 128, "a₁ {a1}");
        let plotted =
            toy2d::compute(&Params { a1, k_eta: toy2d::K_ETA_PLOTTED, ..Params::default() })
                .expect("plotted curves");
        let numeric = toy2d::compute(&Params { a1, k_eta: 1.2, steps: 5, ..Params::default() })
            .expect("numeric curves");
        for (i, r) in panel.iter().enumerate() {
            let what = format!("a₁ {a1}, θ {}", r[1]);
            assert!(close(plotted.theta[i], r[1], 1e-15), "{what}");
            assert!(close(plotted.x[i][0], r[2], 1e-12), "{what}: x₁");
            assert!(close(plotted.x[i][1], r[3], 1e-12), "{what}: x₂");
            assert!(close(plotted.h[i][0], r[4], 1e-12), "{what}: h₁ {:?}", plotted.h[i]);
            assert!(close(plotted.h[i][1], r[5], 1e-12), "{what}: h₂ {:?}", plotted.h[i]);
            let n = numeric.h_numeric[i];
            assert!(close(n[0], r[6], 1e-12) && close(n[1], r[7], 1e-12), "{what}: {n:?}");
        }
    }
}

#[test]
fn cli_writes_the_csv_and_refuses_bad_values() {
    let bin = || Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"));
    let dir = temp_dir("toy2d");
    let out = dir.path().join("toy.csv");
    let run = bin()
        .args(["toy2d", "--a1", "0.95", "--k-eta", "1.2", "--steps", "4", "--samples", "9"])
        .args(["--theta-min", "-0.5", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (header, rows) = read_csv(&out);
    assert_eq!(header, CSV_HEADER);
    assert_eq!(header, "theta,x1,x2,h1,h2,h1_numeric,h2_numeric");
    assert_eq!(rows.len(), 9);
    assert_eq!((rows[0][0], rows[8][0]), (-0.5, std::f64::consts::PI));
    for r in &rows {
        assert_eq!(r.len(), 7);
        assert!(close(r[3], r[5], 1e-6) && close(r[4], r[6], 1e-6), "{r:?}");
    }
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("max |h − h_numeric|"), "{err}");

    let bad_a1 = bin().args(["toy2d", "--a1", "1.5", "--out"]).arg(&out).output().expect("run");
    assert_eq!(bad_a1.status.code(), Some(2), "a₁ outside [0, 1] is a bad argument");
    let bad_steps = bin()
        .args(["toy2d", "--a1", "0.7", "--steps", "0", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(bad_steps.status.code(), Some(2));
    let bad_range = bin()
        .args(["toy2d", "--a1", "0.7", "--theta-min", "1", "--theta-max", "-1", "--out"])
        .arg(dir.path().join("none.csv"))
        .output()
        .expect("run");
    assert_eq!(bad_range.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad_range.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("θ range"), "{err}");
    assert!(!dir.path().join("none.csv").exists(), "nothing written on error");
}

//! Issue #15: hand-made bad files (`tests/data/bad`, written by `make_bad.py` there) through the
//! commands that read them. Every one must fail with exit code 1 (never a panic's 101 or a
//! signal) and one stderr line `error: …` that names the file and says what is wrong; a few odd
//! but valid images must predict. Weights derived from the shipped model (NaN, ±∞, a tensor
//! missing or mis-shaped) and a non-UTF-8 file name are made here, in a temporary folder.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use heatmap_explorer::io::runfile::RunRecord;
use tch::Tensor;

use crate::util::temp_dir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bad(name: &str) -> PathBuf {
    root().join("tests/data/bad").join(name)
}

/// What a case must do.
enum Expect {
    /// Exit 1 with `error: …` naming `file` and containing `keyword`; `lines` is the most
    /// stderr lines allowed (1, or more for the weights report that lists tensors).
    Fail { file: PathBuf, keyword: &'static str, lines: usize },
    /// Exit 0.
    Ok,
}

struct Case {
    name: String,
    args: Vec<OsString>,
    expect: Expect,
}

fn card() -> PathBuf {
    root().join("models/phantom_squeezenet.json")
}

fn good_image() -> PathBuf {
    root().join("assets/samples/normal_1.png")
}

/// `predict --model <shipped card> --image FILE`.
fn image_case(file: PathBuf, keyword: &'static str) -> Case {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Case {
        name,
        args: args(&["predict", "--model"], &[&card(), Path::new("--image"), &file]),
        expect: Expect::Fail { file, keyword, lines: 1 },
    }
}

/// `predict --arch squeezenet1_1 --weights FILE --classes 2 --image <a good PNG>`.
fn weights_case(file: PathBuf, keyword: &'static str, lines: usize) -> Case {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Case {
        name,
        args: args(
            &["predict", "--arch", "squeezenet1_1", "--classes", "2", "--weights"],
            &[&file, Path::new("--image"), &good_image()],
        ),
        expect: Expect::Fail { file, keyword, lines },
    }
}

/// `predict --model FILE --image <a good PNG>`.
fn card_case(name: &str, keyword: &'static str) -> Case {
    let file = bad(name);
    Case {
        name: name.to_owned(),
        args: args(&["predict", "--model"], &[&file, Path::new("--image"), &good_image()]),
        expect: Expect::Fail { file, keyword, lines: 1 },
    }
}

/// `merge --out OUT FILE`.
fn csv_case(name: &str, out: &Path, keyword: &'static str) -> Case {
    let file = bad(name);
    Case {
        name: name.to_owned(),
        args: args(&["merge", "--out"], &[&out.join(format!("merged_{name}")), &file]),
        expect: Expect::Fail { file, keyword, lines: 1 },
    }
}

fn args(words: &[&str], paths: &[&Path]) -> Vec<OsString> {
    words.iter().map(OsString::from).chain(paths.iter().map(|p| p.as_os_str().to_owned())).collect()
}

/// The shipped weights with one change, written to `dir/name`.
fn derived_weights(dir: &Path, name: &str, change: impl Fn(&mut Vec<(String, Tensor)>)) -> PathBuf {
    let mut named = Tensor::read_safetensors(root().join("models/phantom_squeezenet.safetensors"))
        .expect("shipped weights");
    change(&mut named);
    let p = dir.join(name);
    Tensor::write_safetensors(&named, &p).expect("write derived weights");
    p
}

fn set_first(named: &mut [(String, Tensor)], name: &str, value: f64) {
    let (_, t) = named.iter_mut().find(|(n, _)| n == name).expect("tensor present");
    let _ = t.view([-1]).get(0).fill_(value);
}

/// Runs one case; returns what went wrong, if anything, and the wall time.
fn check(case: &Case) -> (Option<String>, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
        .args(&case.args)
        .output()
        .expect("run the binary");
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    let problem = match &case.expect {
        Expect::Ok if code == Some(0) => None,
        Expect::Ok => Some(format!("expected exit 0, got {:?}; stderr: {err}", out.status)),
        Expect::Fail { file, keyword, lines } => {
            let mut p = Vec::new();
            if code != Some(1) {
                p.push(format!("exit {:?} (want 1)", out.status));
            }
            if !err.starts_with("error: ") {
                p.push("stderr does not start with 'error: '".to_owned());
            }
            let n = err.trim_end().lines().count();
            if n == 0 || n > *lines {
                p.push(format!("{n} stderr lines (want 1..={lines})"));
            }
            if err.contains("internal failure") {
                p.push("a panic".to_owned());
            }
            let shown = file.display().to_string();
            if !err.contains(&shown) {
                p.push(format!("stderr does not name {shown}"));
            }
            if !err.to_lowercase().contains(&keyword.to_lowercase()) {
                p.push(format!("stderr lacks '{keyword}'"));
            }
            (!p.is_empty()).then(|| format!("{}; stderr: {}", p.join(", "), err.trim_end()))
        }
    };
    (problem, took)
}

/// Runs `cases` on a few threads (each process loads libtorch; the machine may have two cores).
fn run_all(cases: &[Case]) -> Vec<(Option<String>, Duration)> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<(Option<String>, Duration)>> = Vec::new();
    results.resize_with(cases.len(), || None);
    let slots = std::sync::Mutex::new(results);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let r = check(case);
                    slots.lock().expect("results")[i] = Some(r);
                }
            });
        }
    });
    slots.into_inner().expect("results").into_iter().map(|r| r.expect("every case ran")).collect()
}

#[test]
fn bad_inputs_fail_cleanly_and_odd_valid_images_predict() {
    let dir = temp_dir("bad-inputs");
    let tmp = dir.path();
    let mut cases = Vec::new();

    // Images, through `predict --model <card> --image FILE`.
    for (name, keyword) in [
        ("bomb.png", "larger than"),
        ("empty.png", "empty file"),
        ("text.png", "unrecognised image format"),
        ("truncated.png", "corrupt or truncated"),
        ("bad_crc.png", "crc"),
        ("corrupt_idat.png", "corrupt or truncated"),
        ("palette16.png", "corrupt or truncated"),
        ("colour_type5.png", "corrupt or truncated"),
        ("huge.bmp", "too large"),
        ("huge.jpg", "larger than"),
        ("truncated.jpg", "corrupt or truncated"),
        ("garbage.gif", "corrupt or truncated"),
        ("complex.tiff", "unsupported"),
        ("bits12.tiff", "unsupported"),
        ("empty.dcm", "empty file"),
        ("preamble_only.dcm", "corrupt or truncated"),
        ("short_pixels.dcm", "hold 32 bytes, 128 needed"),
        ("truncated_pixels.dcm", "corrupt or truncated"),
        ("no_rows.dcm", "no valid Rows"),
    ] {
        cases.push(image_case(bad(name), keyword));
    }
    cases.push(image_case(tmp.join("absent.png"), "no such file"));

    // A non-UTF-8 file name: a truncated PNG under it fails naming it; a good PNG predicts.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let odd = tmp.join(std::ffi::OsStr::from_bytes(b"bad-\xff\xfe.png"));
        std::fs::copy(bad("truncated.png"), &odd).expect("copy");
        cases.push(image_case(odd, "corrupt or truncated"));
        let fine = tmp.join(std::ffi::OsStr::from_bytes(b"good-\xff.png"));
        std::fs::copy(good_image(), &fine).expect("copy");
        let mut c = image_case(fine, "");
        c.expect = Expect::Ok;
        cases.push(c);
    }

    // Odd but valid images must predict.
    for name in ["valid_1x1.png", "valid_1x300.png", "valid_gray16.png", "valid_palette_alpha.png"]
    {
        let mut c = image_case(bad(name), "");
        c.expect = Expect::Ok;
        cases.push(c);
    }

    // Weights, through `predict --arch squeezenet1_1 --weights FILE --classes 2`.
    for (name, keyword) in [
        ("empty.safetensors", "not a readable safetensors file"),
        ("truncated.safetensors", "not a readable safetensors file"),
        ("garbage_header.safetensors", "not a readable safetensors file"),
        ("wrong_length.safetensors", "not a readable safetensors file"),
        ("checkpoint.pt", "pickle checkpoints are never loaded"),
    ] {
        cases.push(weights_case(bad(name), keyword, 1));
    }
    cases.push(weights_case(bad("other_arch.safetensors"), "missing (52)", 3));
    let nan =
        derived_weights(tmp, "nan.safetensors", |n| set_first(n, "features.0.weight", f64::NAN));
    cases.push(weights_case(nan, "NaN or infinite", 1));
    let inf = derived_weights(tmp, "inf.safetensors", |n| {
        set_first(n, "classifier.1.weight", f64::NEG_INFINITY);
    });
    cases.push(weights_case(inf, "NaN or infinite", 1));
    let missing = derived_weights(tmp, "missing.safetensors", |n| {
        n.retain(|(name, _)| name != "features.3.squeeze.weight");
    });
    cases.push(weights_case(missing, "missing (1): features.3.squeeze.weight", 2));
    let misshaped = derived_weights(tmp, "misshaped.safetensors", |n| {
        let (_, t) = n.iter_mut().find(|(name, _)| name == "classifier.1.bias").expect("bias");
        *t = Tensor::zeros([3], (tch::Kind::Float, tch::Device::Cpu));
    });
    cases.push(weights_case(misshaped, "mis-shaped (1): classifier.1.bias", 2));

    // Model cards, through `predict --model FILE`.
    for (name, keyword) in [
        ("card_not_json.json", "not a model card"),
        ("card_truncated.json", "not a model card"),
        ("card_classes_text.json", "not a model card"),
        ("card_unknown_arch.json", "unknown architecture 'squeezenet9000'"),
        ("card_missing_weights.json", "no such file"),
        ("card_labels_mismatch.json", "3 labels for a model with 2 classes"),
        ("card_bad_input_size.json", "input_size"),
        ("card_pickle.json", "pickle checkpoints are never loaded"),
    ] {
        cases.push(card_case(name, keyword));
    }

    // AX CSVs, through `merge`.
    for (name, keyword) in [
        ("csv_wrong_header.csv", "not an AX CSV"),
        ("csv_unknown_method.csv", "unknown method 'Sailency'"),
        ("csv_cut.csv", "cut off"),
        ("csv_garbage.csv", "invalid utf-8"),
    ] {
        cases.push(csv_case(name, tmp, keyword));
    }

    let start = Instant::now();
    let results = run_all(&cases);
    let total = start.elapsed();
    let mut report = Vec::new();
    for (case, (problem, took)) in cases.iter().zip(&results) {
        if let Some(p) = problem {
            report.push(format!("{}: {p}", case.name));
        }
        // Decoding 100,000² pixels would take minutes and 30 GB; refusing the header takes
        // milliseconds plus a process start, which a loaded 2-core machine stretches to seconds.
        if case.name == "bomb.png" && *took > Duration::from_secs(30) {
            report.push(format!("bomb.png: took {took:?} (want < 30 s)"));
        }
    }

    // Run files and review state (read by the GUI only, so through the library, panics
    // caught). A review's state is `<folder>.review.json` beside its folder.
    let run_files = [
        ("run_empty.run", "not a run file"),
        ("run_garbage.run", "not a run file"),
        ("run_no_format.run", "format tag"),
        ("run_no_tensors.run", "missing"),
    ];
    for (name, keyword) in run_files {
        library_case(&bad(name), keyword, &mut report, |p| RunRecord::load(p).map(drop));
    }
    let reviews = [
        ("review_not_json", "not a review file"),
        ("review_truncated", "not a review file: EOF"),
        ("review_status", "unknown variant `maybe`"),
        ("review_version", "version 2 is not supported"),
        ("review_escape", "case path \"../outside.png\""),
        ("review_time", "reviewed_at \"yesterday\""),
    ];
    for (name, keyword) in reviews {
        let state = bad(&format!("{name}.review.json"));
        library_case(&state, keyword, &mut report, |p| {
            let folder = p.with_file_name(name);
            heatmap_explorer::review::load(&folder).map(drop)
        });
    }
    let library_cases = run_files.len() + reviews.len();

    assert!(
        report.is_empty(),
        "{} of {} cases wrong ({total:?}):\n{}",
        report.len(),
        cases.len() + library_cases,
        report.join("\n")
    );
    eprintln!("{} bad-input cases in {total:?}", cases.len() + library_cases);
}

/// A file read through the library: `load(path)` must fail without panicking, with one line
/// that names the file and holds `keyword`; what went wrong goes to `report`.
fn library_case(
    p: &Path,
    keyword: &str,
    report: &mut Vec<String>,
    load: impl FnOnce(&Path) -> heatmap_explorer::Result<()> + std::panic::UnwindSafe,
) {
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match std::panic::catch_unwind(|| load(p)) {
        Err(_) => report.push(format!("{name}: panicked")),
        Ok(Ok(())) => report.push(format!("{name}: loaded")),
        Ok(Err(e)) => {
            let text = e.to_string();
            if !matches!(e, heatmap_explorer::Error::Format { .. })
                || !text.contains(&p.display().to_string())
                || !text.contains(keyword)
                || text.lines().count() != 1
            {
                report.push(format!(
                    "{name}: want a format error naming it with '{keyword}': {text}"
                ));
            }
        }
    }
}

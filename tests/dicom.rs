//! DICOM (SPEC §9): the pixel pipeline against pydicom 3.0.2 for every window mode (synthetic
//! files and the real NEMA chest CR and its JPEG 2000 twin), the `image` command, DICOM paths
//! through predict, ax, gax and `ax --data`, refused transfer syntaxes, and privacy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use heatmap_explorer::input::{self, LoadOptions};
use heatmap_explorer::io::npy;
use heatmap_explorer::worker::{Command as WorkerCommand, Event, WorkerHandle};
use hx_formats::dicom::{DicomFile, Window, WindowUsed};
use serde_json::Value;

use crate::util::{model_dir, reference_dir, temp_dir};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
}

/// Where `make test` put the DICOM files and pydicom's outputs (tests/reference/make_dicom.py).
pub(crate) fn dicom_dir() -> PathBuf {
    let dir = reference_dir().join("dicom");
    assert!(
        dir.join("manifest.json").exists(),
        "DICOM references missing in {}: run `make reference` (tests/reference/make_dicom.py)",
        dir.display()
    );
    dir
}

pub(crate) fn manifest() -> Value {
    let p = dicom_dir().join("manifest.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("manifest")).expect("json")
}

fn open(name: &str) -> DicomFile {
    let bytes = std::fs::read(dicom_dir().join(name)).expect("read");
    DicomFile::open(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub(crate) fn identifiers() -> Vec<String> {
    manifest()["identifiers"]
        .as_array()
        .expect("identifiers")
        .iter()
        .map(|v| v.as_str().expect("str").to_owned())
        .collect()
}

/// Fails when any identifier occurs in `bytes`.
pub(crate) fn assert_no_identifiers(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for id in identifiers() {
        // Person names are written with ^ in DICOM and often with spaces elsewhere.
        for form in [id.clone(), id.replace('^', " "), id.split('^').next().unwrap_or("").into()] {
            assert!(!text.contains(&form), "{what} contains the identifier '{form}'");
        }
    }
}

#[test]
fn pipeline_matches_pydicom_for_every_window_mode() {
    let m = manifest();
    let dir = dicom_dir();
    let mut by_file: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for c in m["cases"].as_array().expect("cases") {
        by_file.entry(c["file"].as_str().expect("file")).or_default().push(c);
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, cases) in &by_file {
        let d = open(name);
        let want = &m["files"][name];
        let f = d.facts();
        assert_eq!(f.rows as u64, want["rows"].as_u64().expect("rows"), "{name}");
        assert_eq!(f.columns as u64, want["columns"].as_u64().expect("columns"), "{name}");
        assert_eq!(f.frames as u64, want["frames"].as_u64().expect("frames"), "{name}");
        assert_eq!(u64::from(f.bits_stored), want["bits_stored"].as_u64().expect("bits"), "{name}");
        assert_eq!(f.photometric, want["photometric"].as_str().expect("pi"), "{name}");
        assert_eq!(f.transfer_syntax_uid, want["transfer_syntax_uid"].as_str().expect("ts"));
        assert_eq!(d.presets().len() as u64, want["presets"].as_u64().expect("presets"), "{name}");
        assert_eq!(d.inverted(), want["inverted"].as_bool().expect("inverted"), "{name}");
        assert_eq!(d.is_colour(), want["colour"].as_bool().expect("colour"), "{name}");
        for c in cases {
            let mode = c["window"].as_str().expect("window");
            let window: Window = mode.parse().expect("window parses");
            let frame = c["frame"].as_u64().expect("frame") as usize;
            let r = d.render(frame, &window).unwrap_or_else(|e| panic!("{name} {mode}: {e}"));
            let (shape, expected) = npy::read_f32(&dir.join(c["expected"].as_str().expect("npy")))
                .expect("expected npy");
            let channels = if d.is_colour() { 3 } else { 1 };
            assert_eq!(r.channels, channels, "{name}");
            let dims =
                if channels == 3 { vec![3, r.height, r.width] } else { vec![r.height, r.width] };
            assert_eq!(shape, dims, "{name} {mode}");
            let diff = max_abs_diff(&r.data, &expected);
            if diff > 1e-5 {
                failures.push(format!(
                    "{name} frame {frame} window {mode}: max |ours − pydicom| {diff}"
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 100, "only {checked} cases");
}

#[test]
fn window_choices_are_reported_and_bad_ones_refused() {
    let d = open("mono2_u12_rescale_2win.dcm");
    let labels: Vec<String> = d.presets().iter().map(|p| p.label()).collect();
    assert_eq!(labels, ["C 1500 W 2000 LINEAR (LUNG)", "C 7000 W 800 LINEAR (BONE)"]);
    let f = d.facts();
    assert_eq!(f.pixel_spacing, Some([0.2, 0.25]));
    assert_eq!(
        (f.modality.as_deref(), f.body_part.as_deref(), f.view.as_deref()),
        (Some("DX"), Some("CHEST"), Some("PA"))
    );
    let (_, used) = d.render_detailed(0, &Window::File).expect("file");
    assert_eq!(used, WindowUsed::Preset { index: 0 });
    let (r, used) = d.render_detailed(0, &Window::Auto).expect("auto");
    let WindowUsed::Range { percentile: None, low, high } = used else { panic!("{used:?}") };
    assert!(low < high);
    assert!(r.data.contains(&0.0) && r.data.contains(&1.0));
    let e = d.render(0, &Window::FileN(2)).expect_err("no third preset");
    assert!(e.to_string().contains("file:0 to file:1"), "{e}");
    let e = d.render(1, &Window::File).expect_err("one frame");
    assert!(e.to_string().contains("frame 1"), "{e}");
    assert!(d.render(0, &Window::Custom { center: 0.0, width: 0.5 }).is_err());
    // A file without any VOI: `file` is `auto`; a flat image is all black, never NaN.
    let flat = open("flat_u16_no_voi.dcm");
    let (r, used) = flat.render_detailed(0, &Window::File).expect("flat");
    assert!(matches!(used, WindowUsed::Range { percentile: None, .. }), "{used:?}");
    assert!(r.data.iter().all(|&v| v == 0.0));
    // The header lists everything for display, identifiers included; the facts do not.
    let header = d.header();
    assert!(header.iter().any(|h| h.name == "PatientName"));
    assert!(
        header.iter().any(|h| h.name == "WindowCenterWidthExplanation" && h.value.contains("LUNG"))
    );
    assert_no_identifiers("facts", format!("{:?} {:?}", d.facts(), d.presets()).as_bytes());
}

#[test]
fn resizing_matches_torchvision() {
    let m = manifest();
    for c in m["resized"].as_array().expect("resized") {
        let name = c["file"].as_str().expect("file");
        let window: Window = c["window"].as_str().expect("window").parse().expect("parse");
        let size = [
            c["size"][0].as_u64().expect("h") as usize,
            c["size"][1].as_u64().expect("w") as usize,
        ];
        let r = open(name).render(0, &window).expect("render");
        let small = input::resize_raster(&r, size).expect("resize");
        let (shape, want) =
            npy::read_f32(&dicom_dir().join(c["expected"].as_str().expect("npy"))).expect("npy");
        assert_eq!(shape, size.to_vec());
        let diff = max_abs_diff(&small.data, &want);
        assert!(diff <= 1e-5, "{name} → {size:?}: {diff}");
    }
    // What a model gets: the same resize, replicated to three channels.
    let path = dicom_dir().join("mono2_u12_rescale_2win.dcm");
    let opts = LoadOptions { window: Window::FileN(1), frame: 0 };
    let img = input::load_image_with(&path, [16, 20], &opts).expect("load");
    let c = m["resized"]
        .as_array()
        .expect("resized")
        .iter()
        .find(|c| c["size"][0] == 16)
        .expect("16x20");
    let (_, want) =
        npy::read_f32(&dicom_dir().join(c["expected"].as_str().expect("npy"))).expect("npy");
    for ch in 0..3 {
        assert!(max_abs_diff(&img.data[ch * 320..(ch + 1) * 320], &want) <= 1e-5);
    }
}

#[test]
fn image_command_writes_the_pipeline_and_only_safe_facts() {
    let m = manifest();
    let dir = temp_dir("dicom-image");
    let out = dir.path().join("x.npy");
    let run = bin()
        .args(["image", "--window", "file:1", "--size", "16,20", "--out"])
        .arg(&out)
        .arg(dicom_dir().join("mono2_u12_rescale_2win.dcm"))
        .output()
        .expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_no_identifiers("image stdout", &run.stdout);
    assert_no_identifiers("image stderr", &run.stderr);
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(text.trim().lines().count(), 1, "one JSON line: {text}");
    let v: Value = serde_json::from_str(text.trim()).expect("json");
    assert_eq!(v["format"], "dicom");
    assert_eq!(v["photometric_interpretation"], "MONOCHROME2");
    assert_eq!(v["bits_stored"], 12);
    assert_eq!(v["pixel_spacing"], serde_json::json!([0.2, 0.25]));
    assert_eq!(v["transfer_syntax"], "Explicit VR Little Endian");
    assert_eq!(v["window"]["mode"], "file");
    assert_eq!(v["window"]["index"], 1);
    assert_eq!(v["window"]["explanation"], "BONE");
    assert_eq!(v["presets"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["shape"], serde_json::json!([16, 20]));
    let c = m["resized"]
        .as_array()
        .expect("resized")
        .iter()
        .find(|c| c["size"][0] == 16)
        .expect("16x20");
    let (shape, want) =
        npy::read_f32(&dicom_dir().join(c["expected"].as_str().expect("npy"))).expect("npy");
    let (got_shape, got) = npy::read_f32(&out).expect("out");
    assert_eq!(got_shape, shape);
    assert!(max_abs_diff(&got, &want) <= 1e-5);

    // A 16-bit grayscale PNG keeps its depth; colour becomes the channel mean.
    let g16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(7, 5, |x, y| {
        image::Luma([(x * 9001 + y * 77) as u16])
    });
    let png = dir.path().join("g16.png");
    g16.save(&png).expect("png");
    let run = bin().args(["image", "--out"]).arg(&out).arg(&png).output().expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: Value = serde_json::from_slice(&run.stdout).expect("json");
    assert_eq!((v["format"].as_str(), v["bits_stored"].as_u64()), (Some("image"), Some(16)));
    let (shape, got) = npy::read_f32(&out).expect("out");
    assert_eq!(shape, vec![5, 7]);
    for (g, p) in got.iter().zip(g16.pixels()) {
        assert_eq!(*g, f32::from(p[0]) / 65535.0);
    }
}

#[test]
fn refused_syntaxes_exit_1_with_one_line_naming_them() {
    let m = manifest();
    let dir = temp_dir("dicom-refused");
    for r in m["refused"].as_array().expect("refused") {
        let name = r["file"].as_str().expect("file");
        let run = bin()
            .args(["image", "--out"])
            .arg(dir.path().join("x.npy"))
            .arg(dicom_dir().join(name))
            .output()
            .expect("run");
        assert_eq!(run.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
        assert!(err.contains(r["syntax"].as_str().expect("syntax")), "{name}: {err}");
        assert!(err.contains(r["uid"].as_str().expect("uid")), "{name}: {err}");
        assert!(!dir.path().join("x.npy").exists(), "nothing written");
    }
    let bad = bin()
        .args(["image", "--window", "bogus", "--out", "/tmp/never.npy", "x.dcm"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}

fn squeeze_args() -> Vec<String> {
    let w = model_dir("squeezenet1_1").join("weights.safetensors");
    ["--arch", "squeezenet1_1", "--weights", &w.display().to_string(), "--classes", "10"]
        .map(String::from)
        .to_vec()
}

fn copy(name: &str, to: &Path) -> PathBuf {
    std::fs::copy(dicom_dir().join(name), to).expect("copy");
    to.to_owned()
}

fn logits(out: &std::process::Output) -> Vec<f64> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_no_identifiers("predict", &out.stdout);
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["logits"].as_array().expect("logits").iter().map(|x| x.as_f64().expect("f64")).collect()
}

#[test]
fn predict_ax_and_gax_run_on_dicom_and_write_no_identifiers() {
    let dir = temp_dir("dicom-cli");
    let study = copy("rle_u14_2frame_mono1.dcm", &dir.path().join("study.dcm"));
    let predict = |window: &str, frame: &str| {
        bin()
            .arg("predict")
            .args(squeeze_args())
            .arg("--image")
            .arg(&study)
            .args(["--json", "--window", window, "--frame", frame])
            .output()
            .expect("run")
    };
    let (a, b, c) =
        (logits(&predict("file", "1")), logits(&predict("p1", "1")), logits(&predict("file", "0")));
    assert_ne!(a, b, "the window reaches the model");
    assert_ne!(a, c, "the frame reaches the model");
    let out = predict("file", "2");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("frame 2"));

    let ax = bin()
        .arg("ax")
        .args(squeeze_args())
        .arg("--image")
        .arg(&study)
        .args(["--methods", "Saliency,DeepLift", "--window", "-600,30000"])
        .output()
        .expect("run");
    assert!(ax.status.success(), "{}", String::from_utf8_lossy(&ax.stderr));
    assert_no_identifiers("ax", &ax.stdout);
    let v: Value = serde_json::from_slice(&ax.stdout).expect("json");
    assert!(v["co"]["DeepLift"]["sum"].is_number(), "{v}");

    let run = dir.path().join("study.gaxrun");
    let trace = dir.path().join("study.csv");
    let gax = bin()
        .arg("gax")
        .args(squeeze_args())
        .arg("--image")
        .arg(&study)
        .args(["--max-steps", "2", "--target-co", "1e9", "--quiet", "--frame", "1", "--out"])
        .arg(&run)
        .arg("--trace")
        .arg(&trace)
        .output()
        .expect("run");
    assert!(gax.status.success(), "{}", String::from_utf8_lossy(&gax.stderr));
    for (what, bytes) in [
        ("gax stderr", gax.stderr.clone()),
        ("run file", std::fs::read(&run).expect("run")),
        ("trace", std::fs::read(&trace).expect("trace")),
    ] {
        assert_no_identifiers(what, &bytes);
    }
    assert_eq!(std::fs::read_to_string(&trace).expect("trace").lines().count(), 4);
}

#[test]
fn dataset_runs_scan_dicom_files_and_write_no_identifiers() {
    let dir = temp_dir("dicom-data");
    let data = dir.path().join("data");
    for class in ["NORMAL", "PNEUMONIA"] {
        std::fs::create_dir_all(data.join(class)).expect("mkdir");
    }
    copy("mono2_u12_rescale_2win.dcm", &data.join("NORMAL/a.dcm"));
    copy("signed_s16_linear_exact.dcm", &data.join("NORMAL/IM0002"));
    crate::util::random_png(&data.join("NORMAL"), "b.png", 40, 3);
    copy("mono1_u8.dcm", &data.join("PNEUMONIA/c.DCM"));
    std::fs::write(data.join("PNEUMONIA/notes.txt"), "not an image").expect("txt");
    let out = dir.path().join("ax.csv");
    let run = bin()
        .arg("ax")
        .args(squeeze_args())
        .arg("--data")
        .arg(&data)
        .args(["--methods", "Saliency", "--batch", "2", "--window", "auto", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let csv = std::fs::read_to_string(&out).expect("csv");
    for image in ["NORMAL/a.dcm", "NORMAL/IM0002", "NORMAL/b.png", "PNEUMONIA/c.DCM"] {
        assert_eq!(
            csv.lines().filter(|l| l.starts_with(&format!("{image},"))).count(),
            2,
            "{image}: {csv}"
        );
    }
    assert!(!csv.contains("notes.txt"));
    assert_no_identifiers("ax --data CSV", csv.as_bytes());
    let summary = std::fs::read(dir.path().join("ax.summary.json")).expect("summary");
    assert_no_identifiers("ax --data summary", &summary);
    assert_no_identifiers("ax --data stdout", &run.stdout);
}

#[test]
fn the_worker_opens_dicom_with_the_default_window() {
    let mut h = WorkerHandle::spawn(std::sync::Arc::new(|| {})).expect("spawn");
    let job = h.next_job();
    let path = dicom_dir().join("rle_u14_2frame_mono1.dcm");
    h.send(WorkerCommand::LoadImage {
        job,
        path: path.clone(),
        size: Some([64, 60]),
        options: LoadOptions::default(),
    })
    .expect("send");
    match h.recv_timeout(Duration::from_secs(120)) {
        Some(Event::ImageLoaded { image, .. }) => {
            assert_eq!((image.height, image.width, image.data.len()), (64, 60, 3 * 64 * 60));
            let want =
                input::load_image_with(&path, [64, 60], &LoadOptions::default()).expect("load");
            assert_eq!(image.data, want.data);
        }
        other => panic!("expected ImageLoaded, got {other:?}"),
    }
}

#[test]
fn truncated_and_corrupt_files_are_errors_not_panics() {
    for name in [
        "mono2_u12_rescale_2win.dcm",
        "rle_u14_2frame_mono1.dcm",
        "emri_small_RLE.dcm",
        "JPEG-LL.dcm",
        "emri_small_big_endian.dcm",
    ] {
        let bytes = std::fs::read(dicom_dir().join(name)).expect("read");
        let n = bytes.len();
        let mut cuts: Vec<usize> = (0..32).map(|i| n * i / 32).collect();
        cuts.extend([129, 132, 140, 200, 300, n - 1]);
        for cut in cuts {
            if let Ok(d) = DicomFile::open(&bytes[..cut]) {
                let _ = d.render(d.facts().frames - 1, &Window::Auto);
            }
        }
        // Flipped bytes through the header and the pixel data.
        let mut s = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..60 {
            let mut b = bytes.clone();
            for _ in 0..4 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let i = 132 + (s as usize) % (n - 132);
                b[i] ^= (s >> 32) as u8 | 1;
            }
            if let Ok(d) = DicomFile::open(&b) {
                for w in [Window::File, Window::Percentile(1.0)] {
                    if let Ok(r) = d.render(0, &w) {
                        assert!(r.data.iter().all(|v| v.is_finite()), "{name}: NaN from {w}");
                    }
                }
            }
        }
    }
}

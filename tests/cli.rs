//! The binary as users run it: exit codes, output formats, files.

use std::process::Command;

use heatmap_explorer::io::{npy, runfile::RunRecord};

use crate::util::{model_dir, random_png, temp_dir};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
}

fn squeeze_args() -> Vec<String> {
    let w = model_dir("squeezenet1_1").join("weights.safetensors");
    vec![
        "--arch".into(),
        "squeezenet1_1".into(),
        "--weights".into(),
        w.display().to_string(),
        "--classes".into(),
        "10".into(),
    ]
}

#[test]
fn info_names_libtorch_and_device() {
    let out = bin().arg("info").env_remove("LD_LIBRARY_PATH").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("libtorch 2.11.0"), "{text}");
    assert!(text.contains("device: cpu") || text.contains("device: cuda"), "{text}");
}

#[test]
fn exit_codes() {
    let bad = bin().arg("frobnicate").output().expect("run");
    assert_eq!(bad.status.code(), Some(2));
    if !tch::Cuda::is_available() {
        let cuda = bin().args(["--device", "cuda", "info"]).output().expect("run");
        assert_eq!(cuda.status.code(), Some(1));
        let err = String::from_utf8_lossy(&cuda.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert!(err.contains("CUDA is not available"), "{err}");
    }
    let missing = bin()
        .args([
            "predict",
            "--arch",
            "resnet18",
            "--weights",
            "/nope.safetensors",
            "--image",
            "/nope.png",
        ])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nope.safetensors"));
}

#[test]
fn wrong_weights_list_every_problem() {
    let out = bin()
        .args(["predict", "--arch", "resnet18", "--weights"])
        .arg(model_dir("squeezenet1_1").join("weights.safetensors"))
        .args(["--image", "/nope.png"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing (") && err.contains("unexpected ("), "{err}");
    assert!(
        err.contains("layer4.1.conv2.weight") && err.contains("features.3.squeeze.weight"),
        "{err}"
    );
}

#[test]
fn predict_attribute_and_ax() {
    let dir = temp_dir("cli");
    let img = random_png(dir.path(), "a.png", 300, 1);
    let out = bin()
        .arg("predict")
        .args(squeeze_args())
        .arg("--image")
        .arg(&img)
        .arg("--json")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["logits"].as_array().map(Vec::len), Some(10));
    let predicted = v["predicted"].as_i64().expect("predicted");

    let npy_path = dir.path().join("a.npy");
    let out = bin()
        .arg("attribute")
        .args(squeeze_args())
        .arg("--image")
        .arg(&img)
        .args(["--method", "GuidedBackprop", "--out"])
        .arg(&npy_path)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (shape, data) = npy::read_f32(&npy_path).expect("npy");
    assert_eq!(shape, vec![3, 256, 256]);
    assert!(data.iter().any(|v| *v != 0.0));

    let out = bin().arg("ax").args(squeeze_args()).arg("--image").arg(&img).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["predicted"].as_i64(), Some(predicted));
    assert_eq!(v["label"].as_i64(), Some(predicted));
    for m in [
        "Saliency",
        "InputXGradient",
        "LayerGradCam",
        "Deconvolution",
        "GuidedBackprop",
        "DeepLift",
    ] {
        assert!(v["co"][m]["sum"].is_number() && v["co"][m]["mult"].is_number(), "{m}: {v}");
    }
    let bad = bin()
        .arg("attribute")
        .args(squeeze_args())
        .arg("--image")
        .arg(&img)
        .args(["--method", "saliency", "--out", "/tmp/x.npy"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown method"));
}

#[test]
fn gax_run_file_round_trip() {
    let dir = temp_dir("gaxcli");
    let img = random_png(dir.path(), "g.png", 256, 2);
    let run = dir.path().join("g.gaxrun");
    let trace = dir.path().join("g.csv");
    let stack = dir.path().join("g.npy");
    let out = bin()
        .arg("gax")
        .args(squeeze_args())
        .arg("--image")
        .arg(&img)
        .args(["--max-steps", "6", "--target-co", "1e9", "--variant", "mult", "--quiet", "--out"])
        .arg(&run)
        .arg("--trace")
        .arg(&trace)
        .arg("--npy")
        .arg(&stack)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rec = RunRecord::load(&run).expect("reopen");
    assert_eq!(rec.steps.len(), 7);
    assert_eq!(rec.heatmaps.len(), 7);
    assert_eq!(rec.config.max_steps, 6);
    assert_eq!(rec.image_name, "g.png");
    assert_eq!(rec.model.arch, "squeezenet1_1");
    assert_eq!(rec.model.hash.len(), 64);
    // Cost of one more step: the run without its last step, against the whole run.
    let size = std::fs::metadata(&run).expect("size").len();
    let mut shorter = rec.clone();
    shorter.steps.pop();
    shorter.heatmaps.pop();
    let shorter_path = dir.path().join("shorter.gaxrun");
    shorter.save(&shorter_path).expect("save");
    let per_step = size - std::fs::metadata(&shorter_path).expect("size").len();
    assert!(per_step <= 400_000, "{per_step} bytes per step");
    let csv = std::fs::read_to_string(&trace).expect("trace");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,co,loss,similarity,abs_max,predicted"));
    for (i, line) in lines.enumerate() {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols[0], i.to_string());
        let co: f32 = cols[1].parse().expect("co");
        assert_eq!(co, rec.steps[i].co, "trace and run file agree");
    }
    let (shape, data) = npy::read_f32(&stack).expect("stack");
    assert_eq!(shape, vec![7, 3, 256, 256]);
    assert_eq!(&data[..16], &rec.heatmaps[0].to_f32()[..16]);
    // Saving again gives identical bytes: nothing is lost in the round trip.
    let again = dir.path().join("again.gaxrun");
    rec.save(&again).expect("save");
    assert_eq!(RunRecord::load(&again).expect("load"), rec);
}

#[test]
fn a_panic_exits_1_with_one_line_not_101() {
    // The `panic` hook panics as a bug would, at the start of every command.
    let out =
        bin().arg("info").env(heatmap_explorer::io::FAULT_VAR, "panic").output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: internal failure (a bug, please report it): injected by"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn a_save_killed_before_its_rename_leaves_the_old_file_intact() {
    let dir = temp_dir("killsave");
    let img = random_png(dir.path(), "k.png", 64, 3);
    let out = dir.path().join("k.npy");
    let attribute = |method: &str| {
        let mut c = bin();
        c.arg("attribute").args(squeeze_args()).arg("--image").arg(&img);
        c.args(["--method", method, "--out"]).arg(&out);
        c
    };
    let first = attribute("Saliency").output().expect("run");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = std::fs::read(&out).expect("saved");
    let killed = attribute("GuidedBackprop")
        .env(heatmap_explorer::io::FAULT_VAR, "die-before-rename")
        .output()
        .expect("run");
    assert!(!killed.status.success() && killed.status.code().is_none(), "died by a signal");
    assert_eq!(std::fs::read(&out).expect("still there"), before, "the old file is intact");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.starts_with(".k.npy.") && n.ends_with(".tmp")), "{names:?}");
    let again = attribute("GuidedBackprop").output().expect("run");
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_ne!(std::fs::read(&out).expect("new"), before, "a finished save replaces it");
}

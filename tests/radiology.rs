//! Radiology models (issue #17, SPEC §10): DenseNet121 (3 channels, 1000 classes) and
//! torchxrayvision's 1-channel, 18-output DenseNet121 against torchvision, Captum 0.9.0 and the
//! paper's GAX loop written for one channel (`tests/reference/make_densenet.py`, 64×64 inputs).

use heatmap_explorer::attribution::{self, Method, Options, tape::Tape};
use heatmap_explorer::ax;
use heatmap_explorer::ax::Variant;
use heatmap_explorer::gax::{self, GaxConfig, StopReason};
use heatmap_explorer::model::{Ctx, Model, ModelSource, Normalize, ReluMode};
use tch::{Kind, Tensor};

use crate::util::{array, load_model, meta, meta_ints, model_dir, rel_err, targets};

/// The two reference DenseNets.
pub const DENSE: [&str; 2] = ["densenet121", "xrv-densenet121"];

/// A reference DenseNet, with a clear message when `make reference` predates it.
fn dense(name: &str) -> Model {
    assert!(
        model_dir(name).join("meta.json").exists(),
        "DenseNet references missing in {}: run `make reference` \
         (tests/reference/make_densenet.py)",
        model_dir(name).display()
    );
    load_model(name)
}

#[test]
fn densenet_forward_matches_torchvision() {
    for name in DENSE {
        let model = dense(name);
        let m = meta(name);
        assert_eq!(model.info().channels, m["channels"].as_i64().expect("channels"));
        assert_eq!(model.info().multilabel, m["multilabel"].as_bool().expect("multilabel"));
        let x = array(name, "inputs.npy");
        let ours = tch::no_grad(|| model.forward(&x)).expect("forward");
        let e = rel_err(&ours, &array(name, "logits.npy"));
        println!("forward {name}: max|Δ|/max|logit| = {e:.2e}");
        assert!(e <= 1e-5, "{name}: forward differs from torchvision by {e:.2e}");
    }
    let xrv = dense("xrv-densenet121");
    assert_eq!(xrv.info().labels[7], "Effusion");
    assert_eq!(xrv.info().normalize, Normalize::Xrv);
    assert_eq!(xrv.info().default_layer, "features.conv0");
}

#[test]
fn densenet_attributions_match_captum() {
    let mut worst: f64 = 0.0;
    for name in DENSE {
        let model = dense(name);
        let x = array(name, "inputs.npy");
        let t = targets(name);
        let deep = meta(name)["deep_layer"].as_str().expect("deep layer").to_owned();
        let cases = Method::ALL.iter().map(|&m| (m, None, m.name().to_owned())).chain([(
            Method::LayerGradCam,
            Some(deep),
            "LayerGradCam_deep".to_owned(),
        )]);
        for (m, layer, file) in cases {
            let opts = Options { abs: false, layer };
            let ours = attribution::attribute(&model, &x, Some(&t), m, &opts).expect("attribute");
            let reference = array(name, &format!("attr_{file}.npy"));
            assert_eq!(ours.size(), reference.size(), "{name} {file}: shape");
            let e = rel_err(&ours, &reference);
            println!("{name:16} {file:18} max|ours − captum| / max|captum| = {e:.2e}");
            worst = worst.max(e);
            assert!(e <= 1e-4, "{name} {file}: differs from Captum 0.9.0 by {e:.2e}");
        }
    }
    println!("worst relative error over 2 DenseNets × 7 attributions: {worst:.2e}");
}

#[test]
fn densenet_co_matches_reference_in_both_variants() {
    for name in DENSE {
        let model = dense(name);
        let x = array(name, "inputs.npy");
        let t = targets(name);
        let labels = meta_ints(name, "co_labels");
        let reference = array(name, "co.npy");
        for (i, m) in Method::ALL.iter().enumerate() {
            let a = attribution::attribute(&model, &x, Some(&t), *m, &Options::default())
                .expect("attribute");
            let (h, _) = ax::normalise(&a).expect("normalise");
            let co = ax::co_scores(&model, &x, &h, &labels, &Variant::ALL).expect("co");
            for (j, variant) in ["sum", "mult"].iter().enumerate() {
                for (k, ours) in co[j].iter().enumerate() {
                    let r = reference.double_value(&[i as i64, j as i64, k as i64]);
                    let tol = 1e-4 * r.abs().max(1.0);
                    assert!(
                        (f64::from(*ours) - r).abs() <= tol,
                        "{name} {m} {variant} image {k}: CO {ours} vs reference {r}"
                    );
                }
            }
        }
    }
}

#[test]
fn xrv_gax_trajectory_matches_the_one_channel_loop() {
    let name = "xrv-densenet121";
    let model = dense(name);
    let idx = meta(name)["gax_image"].as_i64().expect("gax image");
    let x = array(name, "inputs.npy").narrow(0, idx, 1);
    assert_eq!(x.size()[1], 1);
    let label = targets(name)[idx as usize];
    for variant in [Variant::Sum, Variant::Mult] {
        let cfg =
            GaxConfig { max_steps: 20, target_co: f64::INFINITY, variant, ..GaxConfig::default() };
        let mut steps = Vec::new();
        let out =
            gax::run(&model, &x, &[label], &cfg, &|| false, &mut |s| steps.push(s)).expect("gax");
        assert_eq!(out[0], (StopReason::MaxSteps, 20));
        assert_eq!(steps.len(), 21);
        // W and b of one channel: the heatmap is [1, H, W].
        assert_eq!(steps[0].heatmap.channels(), 1);
        let reference = array(name, &format!("gax_{}.npy", variant.name()));
        let mut worst: f64 = 0.0;
        for (row, what) in ["CO", "loss", "similarity"].iter().enumerate() {
            let r: Vec<f64> = (0..21).map(|t| reference.double_value(&[row as i64, t])).collect();
            let scale = r.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-6);
            for (t, s) in steps.iter().enumerate() {
                let ours = [s.co, s.loss, s.similarity][row];
                let e = (f64::from(ours) - r[t]).abs() / scale;
                worst = worst.max(e);
                assert!(e <= 1e-3, "{variant:?} step {t}: {what} {ours} vs PyTorch {}", r[t]);
            }
        }
        println!(
            "{name} {variant:?}: CO {:.3} -> {:.3} (PyTorch {:.3}); worst {worst:.2e}",
            steps[0].co,
            steps[20].co,
            reference.double_value(&[0, 20])
        );
    }
}

#[test]
fn every_densenet_relu_call_is_a_rule_point_and_every_conv_a_layer() {
    let model = dense("xrv-densenet121");
    let x = array("xrv-densenet121", "inputs.npy").narrow(0, 0, 1);
    let mut ctx = Ctx::with_relu(ReluMode::Tape(Tape::guided()));
    let _ = model.forward_ctx(&x, &mut ctx).expect("forward");
    let ReluMode::Tape(tape) = ctx.relu else { panic!("tape mode") };
    // relu0, two per dense layer (6 + 12 + 24 + 16 layers), one per transition, the final F.relu.
    let rules = tape.cuts.iter().filter(|c| !c.pass_through).count();
    assert_eq!(rules, 1 + 2 * 58 + 3 + 1);
    // Pass-through cuts: each block's input and each dense layer's new features.
    assert_eq!(tape.cuts.len() - rules, 4 + 58);
    let names = model.layer_names().expect("layers");
    for layer in [
        "features.conv0",
        "features.denseblock1.denselayer1.conv1",
        "features.denseblock3.denselayer24.conv2",
        "features.transition3.conv",
        "features.denseblock4",
        "features.norm5",
    ] {
        assert!(names.iter().any(|n| n == layer), "{layer} not tappable: {names:?}");
    }
    let cam = attribution::attribute(
        &model,
        &x,
        None,
        Method::LayerGradCam,
        &Options { abs: false, layer: Some("features.denseblock4.denselayer16.conv1".into()) },
    )
    .expect("a deep conv by name");
    assert_eq!(cam.size(), vec![1, 1, 64, 64]);
}

#[test]
fn multilabel_co_weighs_the_chosen_output_alone() {
    let model = dense("xrv-densenet121");
    let x = array("xrv-densenet121", "inputs.npy");
    let h = Tensor::full(x.size(), 0.05, (Kind::Float, tch::Device::Cpu));
    let co = ax::co_scores(&model, &x, &h, &[3, 9], &[Variant::Sum]).expect("co");
    let (y0, y1) = tch::no_grad(|| (model.forward(&x), model.forward(&(&x + &h))));
    let d = y1.expect("x'") - y0.expect("x");
    for (i, out) in [3_i64, 9].into_iter().enumerate() {
        let want = d.double_value(&[i as i64, out]);
        assert!((f64::from(co[0][i]) - want).abs() <= 1e-4 * want.abs().max(1.0));
    }
}

#[test]
fn channels_come_from_the_weights_and_cards_are_checked() {
    let dir = crate::util::temp_dir("dense-card");
    let weights = model_dir("xrv-densenet121").join("weights.safetensors");
    let card = |extra: &str| {
        let p = dir.path().join("card.json");
        let text = format!(
            r#"{{"arch": "densenet121", "classes": 18, "normalize": "xrv", "input_size": [64, 64],
               "weights": "{}"{extra}}}"#,
            weights.display()
        );
        std::fs::write(&p, text).expect("card");
        Model::load(&ModelSource::Card(p), tch::Device::Cpu)
    };
    // A plain densenet121 card over 1-channel weights: 1 channel, single-label by default.
    let m = card("").expect("1-channel densenet121");
    assert_eq!((m.info().channels, m.info().multilabel), (1, false));
    let m = card(r#", "channels": 1, "multilabel": true"#).expect("explicit");
    assert_eq!((m.info().channels, m.info().multilabel), (1, true));
    let err = card(r#", "channels": 3"#).expect_err("channel mismatch");
    assert!(err.to_string().contains("1"), "{err}");
    let imagenet = Model::load(
        &ModelSource::Arch {
            arch: heatmap_explorer::model::Arch::Densenet121,
            weights,
            classes: Some(18),
            labels: None,
            normalize: Normalize::Imagenet,
        },
        tch::Device::Cpu,
    )
    .expect_err("ImageNet statistics on one channel");
    assert!(imagenet.to_string().contains("xrv"), "{imagenet}");
    let x3 = Tensor::zeros([1, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
    let wrong = attribution::attribute(&m, &x3, None, Method::Saliency, &Options::default())
        .expect_err("3-channel input to a 1-channel model");
    assert!(wrong.to_string().contains("1-channel"), "{wrong}");
}

/// A card for the reference xrv-densenet121 (64×64 input) in `dir`.
fn xrv_card(dir: &std::path::Path) -> std::path::PathBuf {
    let weights = model_dir("xrv-densenet121").join("weights.safetensors");
    let card = dir.join("xrv.json");
    let text = serde_json::json!({
        "arch": "xrv-densenet121", "classes": 18, "normalize": "xrv", "input_size": [64, 64],
        "channels": 1, "multilabel": true, "weights": weights,
    });
    std::fs::write(&card, text.to_string()).expect("card");
    card
}

fn run_cli(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
        .args(args)
        .output()
        .expect("run");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn cli_runs_a_one_channel_multilabel_model_and_the_per_pathology_gap() {
    let _ = dense("xrv-densenet121");
    let tmp = crate::util::temp_dir("xrv-cli");
    let dir = tmp.path();
    let card = xrv_card(dir);
    let card = card.to_str().expect("utf-8");
    let data = dir.join("data");
    for (sub, n) in [("Effusion/positive", 3), ("Effusion/negative", 2), ("Pneumonia/positive", 1)]
    {
        std::fs::create_dir_all(data.join(sub)).expect("dir");
        for i in 0..n {
            crate::util::random_png(&data.join(sub), &format!("x{i}.png"), 72, 31 * i + n);
        }
    }
    let image = data.join("Effusion/positive/x0.png");
    let image = image.to_str().expect("utf-8");

    // predict: sigmoid probabilities, one per pathology.
    let out = run_cli(&["predict", "--model", card, "--image", image, "--json", "--top", "18"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["multilabel"], true);
    let top = v["top"].as_array().expect("top");
    assert_eq!(top.len(), 18);
    for t in top {
        let (logit, prob) = (t["logit"].as_f64().expect("l"), t["prob"].as_f64().expect("p"));
        assert!((prob - 1.0 / (1.0 + (-logit).exp())).abs() < 1e-5, "{t}");
    }

    // attribute a pathology by name: a 1-channel .npy.
    let npy = dir.join("a.npy");
    let npy_s = npy.to_str().expect("utf-8");
    let args = ["attribute", "--model", card, "--image", image, "--method", "GuidedBackprop"];
    run_cli(&[&args[..], &["--target", "Effusion", "--out", npy_s][..]].concat());
    let (shape, _) = heatmap_explorer::io::npy::read_f32(&npy).expect("npy");
    assert_eq!(shape, vec![1, 64, 64]);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
        .args([&args[..], &["--target", "Cough", "--out", npy_s][..]].concat())
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Effusion"));

    // ax on one image for a chosen pathology.
    let out = run_cli(&["ax", "--model", card, "--image", image, "--target", "Effusion"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["label"], 7);
    assert!(v["co"]["DeepLift"]["sum"].as_f64().expect("co").is_finite());

    // gax maximising a pathology that need not be the top one: no --force for findings.
    let run = dir.join("r.gaxrun");
    let args = ["gax", "--model", card, "--image", image, "--target", "Pneumonia"];
    let rest = ["--max-steps", "2", "--target-co", "1e9", "--quiet", "--out"];
    run_cli(&[&args[..], &rest[..], &[run.to_str().expect("utf-8")][..]].concat());
    let rec = heatmap_explorer::io::runfile::RunRecord::load(&run).expect("run file");
    assert_eq!((rec.steps.len(), rec.label), (3, 8));

    // ax --data with the per-pathology layout: labels 1/0 from positive/negative.
    let csv = dir.join("gap.csv");
    let data_s = data.to_str().expect("utf-8");
    let args = ["ax", "--model", card, "--data", data_s, "--target", "effusion"];
    let csv_s = csv.to_str().expect("utf-8");
    let out =
        run_cli(&[&args[..], &["--methods", "Saliency,DeepLift", "--out", csv_s][..]].concat());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("5 images") && table.contains("DeepLift"), "{table}");
    let rows = heatmap_explorer::dataset::rows::read(&csv).expect("rows");
    assert_eq!(rows.len(), 5 * 2 * 2);
    for r in &rows {
        assert!(r.image.starts_with("Effusion/"), "{}", r.image);
        assert_eq!(r.label, i64::from(r.image.contains("/positive/")), "{}", r.image);
        assert!(r.predicted == 0 || r.predicted == 1);
        assert_eq!(r.correct, r.predicted == r.label);
    }
}

#[test]
fn xrv_resnet50_loads_torchxrayvision_names_with_one_channel() {
    let random = ModelSource::Random {
        arch: heatmap_explorer::model::Arch::XrvResnet50,
        classes: 18,
        normalize: Normalize::Xrv,
        seed: 5,
    };
    let model = Model::load(&random, tch::Device::Cpu).expect("random xrv-resnet50");
    assert_eq!((model.info().channels, model.info().input_size), (1, [512, 512]));
    // torchxrayvision's ResNet keeps torchvision's under `model.`, plus its `op_threshs`.
    let vars = model.var_store().expect("native").variables();
    let mut named: Vec<(String, Tensor)> =
        vars.into_iter().map(|(k, v)| (format!("model.{k}"), v)).collect();
    named.push(("op_threshs".into(), Tensor::ones([18], (Kind::Float, tch::Device::Cpu))));
    let tmp = crate::util::temp_dir("xrv-resnet");
    let path = tmp.path().join("resnet50-res512-all.safetensors");
    Tensor::write_safetensors(&named, &path).expect("write");
    let loaded = Model::load(
        &ModelSource::Arch {
            arch: heatmap_explorer::model::Arch::XrvResnet50,
            weights: path,
            classes: None,
            labels: None,
            normalize: Normalize::Xrv,
        },
        tch::Device::Cpu,
    )
    .expect("torchxrayvision names load");
    assert_eq!(loaded.info().labels[16], "Lung Opacity");
    assert!(loaded.info().multilabel);
    tch::manual_seed(3);
    let x = Tensor::rand([1, 1, 64, 64], (Kind::Float, tch::Device::Cpu));
    let (a, b) = tch::no_grad(|| (model.forward(&x), loaded.forward(&x)));
    assert_eq!(rel_err(&b.expect("loaded"), &a.expect("random")), 0.0);
}

#[test]
fn ax_data_reads_one_pathology_from_a_labels_csv() {
    let _ = dense("xrv-densenet121");
    let tmp = crate::util::temp_dir("xrv-csv");
    let dir = tmp.path();
    let card = xrv_card(dir);
    let data = dir.join("cxr");
    std::fs::create_dir_all(data.join("b")).expect("dir");
    for (i, f) in ["a0.png", "a1.png", "b/c2.png", "b/c3.png"].iter().enumerate() {
        let p = data.join(f);
        let (folder, file) = (p.parent().expect("folder"), p.file_name().expect("name"));
        crate::util::random_png(folder, &file.to_string_lossy(), 64, 40 + i as u64);
    }
    let labels = dir.join("labels.csv");
    let write = |text: &str| std::fs::write(&labels, text).expect("csv");
    write(
        "image,Atelectasis,Effusion,Lung Opacity\na0.png,0,1,0\na1.png,1,0.0,1\nb/c2.png,0,1.0,\nb/c3.png,1,0,0\n",
    );
    let out = dir.join("gap.csv");
    let (card, data, labels_s, out_s) = (
        card.to_str().expect("utf-8"),
        data.to_str().expect("utf-8"),
        labels.to_str().expect("utf-8"),
        out.to_str().expect("utf-8"),
    );
    let ax = |target: &str, csv: &str| {
        let mut args = vec!["ax", "--model", card, "--data", data, "--labels-csv", csv];
        if !target.is_empty() {
            args.extend(["--target", target]);
        }
        args.extend(["--methods", "Saliency", "--overwrite", "--out", out_s]);
        std::process::Command::new(env!("CARGO_BIN_EXE_heatmap-explorer"))
            .args(&args)
            .output()
            .expect("run")
    };
    let ok = ax("Effusion", labels_s);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let table = String::from_utf8_lossy(&ok.stdout);
    assert!(table.contains("4 images") && table.contains("Saliency"), "{table}");
    let rows = heatmap_explorer::dataset::rows::read(&out).expect("rows");
    assert_eq!(rows.len(), 4 * 2);
    let want = [("a0.png", 1), ("a1.png", 0), ("b/c2.png", 1), ("b/c3.png", 0)];
    for r in &rows {
        let label = want.iter().find(|w| w.0 == r.image).map(|w| w.1);
        assert_eq!(Some(r.label), label, "{}", r.image);
        assert_eq!(r.correct, r.predicted == r.label);
    }
    let record = heatmap_explorer::dataset::RunRecord::read(&out).expect("record").expect("some");
    assert_eq!(record.target.as_deref(), Some("Effusion"));
    assert!(record.labels_csv.is_some_and(|p| p.ends_with("labels.csv")));

    // Clear errors with exit code 1 (the others, a value that is not 0/1, a missing image or
    // CSV, are unit tests of `dataset::labels`).
    let fails = |target: &str, csv: &str, want: &str| {
        let o = ax(target, csv);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(want), "expected '{want}' in: {err}");
    };
    fails("Pneumonia", labels_s, "no column for 'Pneumonia'");
    fails("Lung Opacity", labels_s, "line 4: Lung Opacity is '' for 'b/c2.png'");
    fails("", labels_s, "--labels-csv needs --target");
}

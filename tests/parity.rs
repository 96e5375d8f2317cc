//! Parity with the real peers: torchvision logits, Captum 0.9.0 attributions, the paper's CO.

use heatmap_explorer::attribution::{self, Method, Options};
use heatmap_explorer::ax;
use tch::{Kind, Tensor};

use crate::util::{array, load_model, meta, rel_err, targets};

pub const FULL: [&str; 4] = ["resnet34", "alexnet", "resnet34-2class", "alexnet-2class"];

#[test]
fn forward_matches_torchvision() {
    for name in [
        "resnet18",
        "resnet34",
        "resnet50",
        "alexnet",
        "squeezenet1_1",
        "resnet34-2class",
        "alexnet-2class",
    ] {
        let model = load_model(name);
        let x = array(name, "inputs.npy");
        let ours = tch::no_grad(|| model.forward(&x)).expect("forward");
        let reference = array(name, "logits.npy");
        let e = rel_err(&ours, &reference);
        println!("forward {name}: max|Δ|/max|logit| = {e:.2e}");
        assert!(e <= 1e-5, "{name}: forward differs from torchvision by {e:.2e}");
    }
}

#[test]
fn attributions_match_captum() {
    let mut worst: f64 = 0.0;
    for name in FULL {
        let model = load_model(name);
        let x = array(name, "inputs.npy");
        let t = targets(name);
        for m in Method::ALL {
            let ours = attribution::attribute(&model, &x, Some(&t), m, &Options::default())
                .expect("attribute");
            let reference = array(name, &format!("attr_{}.npy", m.name()));
            assert_eq!(ours.size(), reference.size(), "{name} {m}: shape");
            let e = rel_err(&ours, &reference);
            println!("{name:16} {:15} max|ours − captum| / max|captum| = {e:.2e}", m.name());
            worst = worst.max(e);
            assert!(e <= 1e-4, "{name} {m}: differs from Captum 0.9.0 by {e:.2e}");
        }
    }
    println!("worst relative error over 4 models × 6 methods: {worst:.2e}");
}

#[test]
fn co_scores_match_reference() {
    for name in FULL {
        let model = load_model(name);
        let x = array(name, "inputs.npy");
        let t = targets(name);
        let labels: Vec<i64> = meta(name)["co_labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|v| v.as_i64().expect("i"))
            .collect();
        let reference = array(name, "co.npy");
        for (i, m) in Method::ALL.iter().enumerate() {
            let a = attribution::attribute(&model, &x, Some(&t), *m, &Options::default())
                .expect("attribute");
            let (h, _) = ax::normalise(&a).expect("normalise");
            let co = ax::co_scores(&model, &x, &h, &labels, &ax::Variant::ALL).expect("co");
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
fn batched_equals_one_by_one() {
    for name in ["resnet34-2class", "alexnet"] {
        let model = load_model(name);
        let x = array(name, "inputs.npy");
        let t = targets(name);
        for m in Method::ALL {
            let batch = attribution::attribute(&model, &x, Some(&t), m, &Options::default())
                .expect("batch");
            for i in 0..2_i64 {
                let xi = x.narrow(0, i, 1);
                let single = attribution::attribute(
                    &model,
                    &xi,
                    Some(&t[i as usize..=i as usize]),
                    m,
                    &Options::default(),
                )
                .expect("single");
                let e = rel_err(&batch.narrow(0, i, 1), &single);
                assert!(e <= 1e-5, "{name} {m} image {i}: batched differs from single by {e:.2e}");
            }
        }
        let (pred, scores) =
            ax::ax_batch(&model, &x, None, &Method::ALL, &Options::default()).expect("ax batch");
        for i in 0..2_i64 {
            let (p1, s1) =
                ax::ax_batch(&model, &x.narrow(0, i, 1), None, &Method::ALL, &Options::default())
                    .expect("ax single");
            assert_eq!(p1[0], pred[i as usize]);
            for (a, b) in scores[i as usize].iter().zip(&s1[0]) {
                assert!(
                    (a.sum - b.sum).abs() <= 1e-4 * a.sum.abs().max(1.0),
                    "{name} {}: sum",
                    a.method
                );
                assert!(
                    (a.mult - b.mult).abs() <= 1e-4 * a.mult.abs().max(1.0),
                    "{name} {}: mult",
                    a.method
                );
            }
        }
    }
}

#[test]
fn zero_attribution_gives_zero_co_not_nan() {
    let model = crate::util::small_model(3, 7);
    // A black image: InputXGradient and DeepLift (zero baseline) are exactly zero.
    let x = Tensor::zeros([1, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
    let (_, scores) = ax::ax_batch(
        &model,
        &x,
        None,
        &[Method::InputXGradient, Method::DeepLift],
        &Options::default(),
    )
    .expect("ax");
    for s in &scores[0] {
        assert!(s.zero_attribution, "{} should be flagged", s.method);
        assert_eq!((s.sum, s.mult), (0.0, 0.0), "{}", s.method);
    }
}

#[test]
fn saliency_abs_and_layer_choice() {
    let name = "resnet34-2class";
    let model = load_model(name);
    let x = array(name, "inputs.npy");
    let t = targets(name);
    let signed =
        attribution::attribute(&model, &x, Some(&t), Method::Saliency, &Options::default())
            .expect("signed");
    let abs = attribution::attribute(
        &model,
        &x,
        Some(&t),
        Method::Saliency,
        &Options { abs: true, layer: None },
    )
    .expect("abs");
    assert!(rel_err(&abs, &signed.abs()) == 0.0);
    let deep = attribution::attribute(
        &model,
        &x,
        Some(&t),
        Method::LayerGradCam,
        &Options { abs: false, layer: Some("layer4".into()) },
    )
    .expect("layer4");
    assert_eq!(deep.size(), vec![2, 3, 256, 256]);
    let err = attribution::attribute(
        &model,
        &x,
        Some(&t),
        Method::LayerGradCam,
        &Options { abs: false, layer: Some("nope".into()) },
    )
    .expect_err("unknown layer");
    assert!(err.to_string().contains("layer1.0.conv1"), "{err}");
}

#[test]
fn torchscript_runs_gradient_methods_and_refuses_the_rest() {
    use heatmap_explorer::model::{Model, ModelSource, Normalize};
    let name = "squeezenet1_1";
    let source = ModelSource::TorchScript {
        path: crate::util::model_dir(name).join("model.pt"),
        normalize: Normalize::Imagenet,
        labels: None,
    };
    let model = Model::load(&source, tch::Device::Cpu).expect("TorchScript loads");
    assert_eq!(model.info().classes, 10);
    assert!(!model.is_native());
    let x = array(name, "inputs.npy");
    let reference = array(name, "logits.npy");
    let ours = tch::no_grad(|| model.forward(&x)).expect("forward");
    assert!(rel_err(&ours, &reference) <= 1e-5);
    let t = targets(name);
    for m in [Method::Saliency, Method::InputXGradient] {
        let a = attribution::attribute(&model, &x, Some(&t), m, &Options::default())
            .expect("gradient method");
        let e = rel_err(&a, &array(name, &format!("attr_{}.npy", m.name())));
        assert!(e <= 1e-4, "TorchScript {m}: {e:.2e}");
    }
    for m in [Method::GuidedBackprop, Method::Deconvolution, Method::DeepLift, Method::LayerGradCam]
    {
        let err = attribution::attribute(&model, &x, Some(&t), m, &Options::default())
            .expect_err("refused");
        assert!(err.to_string().contains("TorchScript"), "{m}: {err}");
    }
    let (_, scores) =
        ax::ax_batch(&model, &x, None, &[Method::Saliency], &Options::default()).expect("AX");
    assert!(scores[0][0].sum.is_finite());
    let mut n = 0;
    let cfg = heatmap_explorer::gax::GaxConfig {
        max_steps: 2,
        target_co: f64::INFINITY,
        ..Default::default()
    };
    heatmap_explorer::gax::run(&model, &x.narrow(0, 0, 1), &t[..1], &cfg, &|| false, &mut |_| {
        n += 1
    })
    .expect("GAX on TorchScript");
    assert_eq!(n, 3);
}

//! Parity on grayscale images with large flat regions (issue #13): a scanned page, a phantom's
//! black background, flat blocks with saturated areas and a real radiograph at 8 and 16 bits.
//! There, equal values tie in every max-pool window and ReLU, so a one-ulp input difference
//! moves attributions by percent; the images are decoded by the project from the PNG files the
//! reference read (`tests/reference/flat_images.py`).
//!
//! Each reference is computed on exactly the batch tested (`flat_reference.py`): PyTorch's own
//! convolutions round a few positions differently for a batch of 5 and one of 6, which breaks a
//! flat region's ties differently (alexnet Saliency on `blocks`: 15 % apart), so on such images
//! an attribution depends on the batch it was computed in, in PyTorch as here.

use heatmap_explorer::attribution::{self, Method, Options};
use heatmap_explorer::ax;
use heatmap_explorer::model::{Ctx, Model};
use tch::{Kind, Tensor};

use crate::parity::FULL;
use crate::util::{FLAT, array, flat_images, load_model, meta, meta_ints, rel_err, targets};

/// max|ours − ref| / max|ref| of every image (row) of a batch.
fn rel_err_rows(ours: &Tensor, reference: &Tensor) -> Vec<f64> {
    (0..reference.size()[0]).map(|i| rel_err(&ours.get(i), &reference.get(i))).collect()
}

/// The image in row `k` of a batch that starts with flat image `first`.
fn image_name(first: usize, k: usize) -> &'static str {
    FLAT.get(first + k).copied().unwrap_or("the noise image")
}

/// One model's references for a batch: attributions `{prefix}attr_{method}.npy` and CO
/// `{prefix}co.npy` (`[method, variant, image]`), rows `first..` of them.
struct Reference<'a> {
    name: &'a str,
    prefix: &'a str,
    first: usize,
}

impl Reference<'_> {
    /// Attributions and their CO for the batch `x`, checked row by row.
    fn check(&self, model: &Model, x: &Tensor, t: &[i64], labels: &[i64], worst: &mut f64) {
        let (name, first) = (self.name, self.first);
        let rows = x.size()[0];
        let co_reference = array(name, &format!("{}co.npy", self.prefix));
        for (i, m) in Method::ALL.into_iter().enumerate() {
            let a =
                attribution::attribute(model, x, Some(t), m, &Options::default()).expect("attr");
            let reference = array(name, &format!("{}attr_{}.npy", self.prefix, m.name())).narrow(
                0,
                first as i64,
                rows,
            );
            for (k, e) in rel_err_rows(&a, &reference).iter().enumerate() {
                *worst = worst.max(*e);
                assert!(
                    *e <= 1e-4,
                    "{name} {m} {}on {}: differs from Captum 0.9.0 by {e:.2e}",
                    self.prefix,
                    image_name(first, k)
                );
            }
            let (h, _) = ax::normalise(&a).expect("normalise");
            let co = ax::co_scores(model, x, &h, labels, &ax::Variant::ALL).expect("co");
            for (j, per_image) in co.iter().enumerate() {
                for (k, ours) in per_image.iter().enumerate() {
                    let r = co_reference.double_value(&[i as i64, j as i64, (first + k) as i64]);
                    assert!(
                        (f64::from(*ours) - r).abs() <= 1e-4 * r.abs().max(1.0),
                        "{name} {m} {}variant {j} on {}: CO {ours} vs reference {r}",
                        self.prefix,
                        image_name(first, k)
                    );
                }
            }
        }
    }
}

#[test]
fn flat_images_match_captum_and_co_single_and_batched() {
    let x = flat_images();
    for name in FULL {
        let model = load_model(name);
        let logits = tch::no_grad(|| model.forward(&x)).expect("forward");
        let e = rel_err(&logits, &array(name, "flat_logits.npy"));
        assert!(e <= 1e-5, "{name}: logits differ from torchvision by {e:.2e}");
        let t = meta_ints(name, "flat_targets");
        let labels = meta_ints(name, "flat_co_labels");
        let mut worst = 0.0;
        // Batched: the five flat images and a noise image from the first reference batch.
        let xb = Tensor::cat(&[&x, &array(name, "inputs.npy").narrow(0, 0, 1)], 0);
        let noise_target = targets(name)[0];
        let tb: Vec<i64> = t.iter().copied().chain([noise_target]).collect();
        let lb: Vec<i64> = labels.iter().copied().chain([noise_target]).collect();
        Reference { name, prefix: "flat_", first: 0 }.check(&model, &xb, &tb, &lb, &mut worst);
        // One image at a time.
        for k in 0..FLAT.len() {
            let xi = x.narrow(0, k as i64, 1);
            Reference { name, prefix: "flat_single_", first: k }.check(
                &model,
                &xi,
                &t[k..=k],
                &labels[k..=k],
                &mut worst,
            );
        }
        println!("{name:16} flat images, 6 methods and CO, batched and single: worst {worst:.2e}");
    }
}

/// Positions whose bits differ and the largest absolute difference.
fn bit_diff(ours: &Tensor, reference: &Tensor) -> (usize, f64) {
    assert_eq!(ours.size(), reference.size());
    let a = Vec::<f32>::try_from(ours.contiguous().view([-1])).expect("ours");
    let b = Vec::<f32>::try_from(reference.contiguous().view([-1])).expect("reference");
    a.iter().zip(&b).fold((0, 0.0), |(n, m), (x, y)| {
        (n + usize::from(x.to_bits() != y.to_bits()), m.max(f64::from((x - y).abs())))
    })
}

#[test]
fn flat_image_activations_and_gradient_are_bit_identical() {
    // One flat image alone through the same libtorch kernels as PyTorch: every tapped layer
    // output, the logits of the plain forward (in-place ReLUs) and the input gradient must agree
    // in every bit, or some operation differs in order somewhere.
    let x_all = flat_images();
    for name in FULL {
        let model = load_model(name);
        let k = meta(name)["flat_bits_image"].as_i64().expect("image");
        let x = x_all.narrow(0, k, 1);
        let taps: Vec<String> = meta(name)["flat_taps"]
            .as_array()
            .expect("taps")
            .iter()
            .map(|v| v.as_str().expect("name").to_owned())
            .collect();
        for tap in &taps {
            let mut ctx = Ctx::tapping(tap);
            let _logits = tch::no_grad(|| model.forward_ctx(&x, &mut ctx)).expect("forward");
            let a = ctx.tap.and_then(|t| t.activation).expect("tapped");
            let (n, d) = bit_diff(&a, &array(name, &format!("flat_act_{tap}.npy")));
            assert_eq!(n, 0, "{name} {tap}: {n} values differ from PyTorch, by up to {d:e}");
        }
        let logits = tch::no_grad(|| model.forward(&x)).expect("forward");
        let (n, d) = bit_diff(&logits, &array(name, "flat_act_logits.npy"));
        assert_eq!(n, 0, "{name} logits: {n} values differ, by up to {d:e}");
        let t = meta_ints(name, "flat_targets")[k as usize];
        let g =
            attribution::attribute(&model, &x, Some(&[t]), Method::Saliency, &Options::default())
                .expect("gradient");
        let (n, d) = bit_diff(&g.to_kind(Kind::Float), &array(name, "flat_grad.npy"));
        assert_eq!(n, 0, "{name} input gradient: {n} values differ, by up to {d:e}");
        println!(
            "{name:16} {}: {} activations, logits and input gradient bit-identical",
            FLAT[k as usize],
            taps.len()
        );
    }
}

//! GAX: trajectory parity with the paper's PyTorch loop, batched runs, run files.

use heatmap_explorer::ax::Variant;
use heatmap_explorer::gax::{self, Engine, GaxConfig, GaxStep, StopReason};
use heatmap_explorer::model::Model;
use tch::{Kind, Tensor};

use crate::util::{FLAT, array, flat_images, load_model, meta, meta_ints, small_model, targets};

fn trajectory(
    model: &Model,
    x: &Tensor,
    labels: &[i64],
    cfg: &GaxConfig,
) -> (Vec<Vec<GaxStep>>, Vec<(StopReason, usize)>) {
    let n = labels.len();
    let mut steps: Vec<Vec<GaxStep>> = vec![Vec::new(); n];
    let out =
        gax::run(model, x, labels, cfg, &|| false, &mut |s| steps[s.image].push(s)).expect("gax");
    (steps, out)
}

/// The three-class test model and four random 64×64 images drawn with `seed`, with their labels.
fn four_images(seed: i64) -> (Model, Tensor, [i64; 4]) {
    let model = small_model(3, 11);
    tch::manual_seed(seed);
    (model, Tensor::rand([4, 3, 64, 64], (Kind::Float, tch::Device::Cpu)), [0, 1, 2, 1])
}

/// The largest absolute difference between two equally long slices.
fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0_f32, |m, (x, y)| m.max((x - y).abs()))
}

#[test]
fn trajectory_matches_pytorch_loop() {
    for name in ["resnet34-2class", "alexnet"] {
        let model = load_model(name);
        let idx = meta(name)["gax_image"].as_i64().expect("gax image");
        let x = array(name, "inputs.npy").narrow(0, idx, 1);
        let label = targets(name)[idx as usize];
        for variant in [Variant::Sum, Variant::Mult] {
            let cfg = GaxConfig {
                max_steps: 20,
                target_co: f64::INFINITY,
                variant,
                ..GaxConfig::default()
            };
            let (steps, out) = trajectory(&model, &x, &[label], &cfg);
            assert_eq!(out[0], (StopReason::MaxSteps, 20));
            let reference = array(name, &format!("gax_{}.npy", variant.name()));
            assert_eq!(steps[0].len(), 21);
            // Relative to the trajectory's scale: a trajectory that crosses zero has no
            // meaningful per-point relative error there.
            let scale =
                (0..21).map(|t| reference.double_value(&[t]).abs()).fold(0.0, f64::max).max(1e-6);
            let mut worst: f64 = 0.0;
            for (t, s) in steps[0].iter().enumerate() {
                assert_eq!(s.step, t);
                let r = reference.double_value(&[t as i64]);
                let e = (f64::from(s.co) - r).abs() / scale;
                worst = worst.max(e);
                assert!(
                    e <= 1e-3,
                    "{name} {variant:?} step {t}: CO {} vs PyTorch {r} (scale {scale})",
                    s.co
                );
            }
            println!(
                "{name} {variant:?}: CO step 0 {:.4} -> step 20 {:.4} (PyTorch {:.4}); \
                 max |diff| / max |CO| = {worst:.2e}",
                steps[0][0].co,
                steps[0][20].co,
                reference.double_value(&[20])
            );
        }
    }
}

/// Checks one image's CO, loss and similarity over 21 steps against the reference rows, each
/// to 1e-3 of its largest magnitude; returns the worst relative difference.
fn check_against_rows(steps: &[GaxStep], rows: [Vec<f64>; 3], what: &str) -> f64 {
    assert_eq!(steps.len(), 21, "{what}");
    let mut worst: f64 = 0.0;
    for (row, label) in rows.iter().zip(["CO", "loss", "similarity"]) {
        let scale = row.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-6);
        for (t, s) in steps.iter().enumerate() {
            let ours = match label {
                "CO" => s.co,
                "loss" => s.loss,
                _ => s.similarity,
            };
            let e = (f64::from(ours) - row[t]).abs() / scale;
            worst = worst.max(e);
            assert!(e <= 1e-3, "{what} step {t}: {label} {ours} vs PyTorch {}", row[t]);
        }
    }
    worst
}

#[test]
fn flat_image_trajectory_matches_pytorch_loop_in_both_engines() {
    // A grayscale image with large flat regions (issue #13): the eager engine on the image alone
    // against the paper's loop, the graph engine (uncaptured on the CPU) with the image in a
    // batch with a noise image against the same loop on that batch.
    let x_all = flat_images();
    for name in ["resnet34-2class", "alexnet"] {
        let model = load_model(name);
        let k = meta(name)["flat_gax_image"].as_i64().expect("flat gax image");
        let image = FLAT[k as usize];
        let x = x_all.narrow(0, k, 1);
        let label = meta_ints(name, "flat_targets")[k as usize];
        let xb = Tensor::cat(&[&x, &array(name, "inputs.npy").narrow(0, 0, 1)], 0);
        let labels = [label, targets(name)[0]];
        for variant in [Variant::Sum, Variant::Mult] {
            let cfg = |engine| GaxConfig {
                max_steps: 20,
                target_co: f64::INFINITY,
                variant,
                engine,
                ..GaxConfig::default()
            };
            let v = variant.name();
            // [3, 21]: CO, loss, similarity of steps 0..=20.
            let single = array(name, &format!("flat_gax_{v}.npy"));
            let rows = |t: &Tensor| -> [Vec<f64>; 3] {
                [0, 1, 2].map(|r| (0..21).map(|s| t.double_value(&[r, s])).collect())
            };
            let (steps, _) = trajectory(&model, &x, &[label], &cfg(Engine::Eager));
            let what = format!("{name} {image} {v} eager");
            let worst = check_against_rows(&steps[0], rows(&single), &what);
            println!(
                "{what}: CO {:.4} -> {:.4}; worst {worst:.2e}",
                steps[0][0].co, steps[0][20].co
            );
            // [3, 2, 21]: the same rows for both images of the batch.
            let pair = array(name, &format!("flat_gax2_{v}.npy"));
            let (steps, _) = trajectory(&model, &xb, &labels, &cfg(Engine::Graph));
            for (i, s) in steps.iter().enumerate() {
                let what = format!("{name} {v} graph, batch image {i}");
                let worst = check_against_rows(s, rows(&pair.select(1, i as i64)), &what);
                println!("{what}: worst {worst:.2e}");
            }
        }
    }
}

#[test]
fn batched_runs_equal_single_runs_and_stop_per_image() {
    let (model, x, labels) = four_images(5);
    let free = GaxConfig { max_steps: 12, target_co: f64::INFINITY, ..GaxConfig::default() };
    let singles: Vec<Vec<GaxStep>> = (0..4)
        .map(|i| {
            trajectory(&model, &x.narrow(0, i, 1), &labels[i as usize..=i as usize], &free)
                .0
                .remove(0)
        })
        .collect();
    // A target that image 0 passes part-way, so it leaves the batch while the others go on.
    let first_above =
        |i: usize, target: f64| singles[i].iter().position(|s| f64::from(s.co) > target);
    // An image k that passes the target part-way while another image is still below it then.
    let (k, stop, target) = (0..4)
        .flat_map(|k| (3..10).map(move |s| (k, s)))
        .find_map(|(k, s)| {
            let co: Vec<f64> = singles[k].iter().map(|st| f64::from(st.co)).collect();
            let best = co[..s].iter().copied().fold(f64::MIN, f64::max);
            let target = (co[s] + best) / 2.0;
            let others_go_on =
                (0..4).any(|i| i != k && first_above(i, target).is_none_or(|p| p > s));
            (co[s] > best + 1e-3 && others_go_on).then_some((k, s, target))
        })
        .expect("some image's CO passes a target part-way while another's does not");
    let cfg = GaxConfig { target_co: target, ..free.clone() };
    let (batched, out) = trajectory(&model, &x, &labels, &cfg);
    assert_eq!(out[k], (StopReason::TargetReached, stop));
    assert_eq!(batched[k].len(), stop + 1, "a finished image stops changing");
    assert!(
        batched.iter().any(|b| b.len() > stop + 1),
        "another image runs on after image {k} stopped"
    );
    for i in 0..4 {
        let expect_len = first_above(i, target).map_or(13, |p| p + 1);
        assert_eq!(batched[i].len(), expect_len, "image {i} length");
        for (b, s) in batched[i].iter().zip(&singles[i]) {
            let tol = 1e-4 * s.co.abs().max(1e-3);
            assert!(
                (b.co - s.co).abs() <= tol,
                "image {i} step {}: batched {} single {}",
                s.step,
                b.co,
                s.co
            );
            let d = max_abs_diff(&b.heatmap.to_f32(), &s.heatmap.to_f32());
            assert!(d <= 2e-3, "image {i} step {}: heatmaps differ by {d}", s.step);
        }
    }
}

#[test]
fn graph_engine_steps_equal_eager_steps() {
    // On the CPU the graph engine runs its fixed step on static buffers without capturing:
    // this checks the step itself (in-place Adam with a device-side step count, the packed
    // readout, finished images masked and then compacted) against the eager loop.
    let (model, x, labels) = four_images(6);
    let free =
        GaxConfig { max_steps: 12, target_co: f64::INFINITY, top_k: 2, ..GaxConfig::default() };
    let (eager, _) = trajectory(&model, &x, &labels, &free);
    // A target that two or three images pass (at least one after a few updates, so at most half
    // the batch runs for a while and the graph engine compacts it) and another never does.
    let lengths = |target: f64| -> Vec<usize> {
        eager
            .iter()
            .map(|e| e.iter().position(|s| f64::from(s.co) > target).map_or(13, |p| p + 1))
            .collect()
    };
    // Midway between neighbouring CO values, so that rounding differences between batch
    // layouts cannot move an image across it.
    let mut cos: Vec<f64> = eager.iter().flatten().map(|s| f64::from(s.co)).collect();
    cos.sort_by(f64::total_cmp);
    let target = cos
        .windows(2)
        .filter(|p| p[1] - p[0] > 1e-3 * p[0].abs().max(1.0))
        .map(|p| (p[0] + p[1]) / 2.0)
        .find(|&t| {
            let l = lengths(t);
            let stopped = l.iter().filter(|&&n| n < 13).count();
            (2..=3).contains(&stopped) && l.iter().any(|&n| (3..13).contains(&n))
        })
        .expect("a target that splits the batch");
    for cfg in [free.clone(), GaxConfig { target_co: target, ..free.clone() }] {
        let (want, want_out) = trajectory(&model, &x, &labels, &cfg);
        assert_eq!(want.iter().map(Vec::len).collect::<Vec<_>>(), lengths(cfg.target_co));
        let (got, got_out) =
            trajectory(&model, &x, &labels, &GaxConfig { engine: Engine::Graph, ..cfg.clone() });
        assert_eq!(got_out, want_out);
        for i in 0..4 {
            assert_eq!(got[i].len(), want[i].len(), "image {i}");
            for (g, w) in got[i].iter().zip(&want[i]) {
                let tol = 1e-5 * w.co.abs().max(1.0);
                assert!(
                    (g.co - w.co).abs() <= tol,
                    "image {i} step {}: graph {} eager {}",
                    w.step,
                    g.co,
                    w.co
                );
                assert!((g.loss - w.loss).abs() <= 1e-5 * w.loss.abs().max(1.0));
                assert!((g.similarity - w.similarity).abs() <= 1e-5 * w.similarity.abs().max(1e-3));
                assert!((g.abs_max - w.abs_max).abs() <= 1e-5);
                assert_eq!((g.step, g.predicted), (w.step, w.predicted));
                assert_eq!(
                    g.top.iter().map(|t| t.0).collect::<Vec<_>>(),
                    w.top.iter().map(|t| t.0).collect::<Vec<_>>()
                );
                let d = max_abs_diff(&g.heatmap.to_f32(), &w.heatmap.to_f32());
                assert!(d <= 1e-3, "image {i} step {}: heatmaps differ by {d}", w.step);
            }
        }
    }
    assert!(eager.iter().all(|e| e.len() == 13));
}

#[test]
fn step_zero_is_the_initial_heatmap() {
    let model = small_model(2, 3);
    tch::manual_seed(9);
    let x = Tensor::rand([1, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
    let cfg = GaxConfig { max_steps: 2, target_co: f64::INFINITY, ..GaxConfig::default() };
    let (steps, _) = trajectory(&model, &x, &[1], &cfg);
    let h0 = (&x + 0.01).tanh();
    let v = Vec::<f32>::try_from(h0.view([-1])).expect("vec");
    let got = steps[0][0].heatmap.to_f32();
    let d = max_abs_diff(&v, &got);
    assert!(d < 1e-3, "step 0 heatmap is tanh(x + 0.01), off by {d}");
    assert!(steps[0][0].co.is_finite());
    assert_eq!(steps[0].len(), 3);
}

#[test]
fn bad_config_is_an_error() {
    let model = small_model(2, 3);
    let x = Tensor::rand([1, 3, 64, 64], (Kind::Float, tch::Device::Cpu));
    let cfg = GaxConfig { lr: -1.0, ..GaxConfig::default() };
    assert!(gax::run(&model, &x, &[0], &cfg, &|| false, &mut |_| {}).is_err());
    assert!(gax::run(&model, &x, &[5], &GaxConfig::default(), &|| false, &mut |_| {}).is_err());
    assert!(gax::run(&model, &x, &[0, 1], &GaxConfig::default(), &|| false, &mut |_| {}).is_err());
}

#[test]
fn non_finite_values_stop_gax_with_the_steps_so_far() {
    let (model, x, labels) = four_images(5);
    // An absurd learning rate sends the weights to ±∞ after one update; pixels that are 0 then
    // give ∞·0 = NaN in the heatmap.
    let x = x.narrow(0, 0, 1).copy();
    let _ = x.narrow(2, 0, 4).fill_(0.0);
    let cfg =
        GaxConfig { lr: 1e300, max_steps: 10, target_co: f64::INFINITY, ..GaxConfig::default() };
    let (steps, out) = trajectory(&model, &x, &labels[..1], &cfg);
    assert_eq!(out[0].0, StopReason::NonFinite, "{out:?}");
    let kept = &steps[0];
    assert_eq!(kept.len(), out[0].1 + 1, "every step before the fault is kept");
    assert!(kept.iter().all(|s| s.co.is_finite() && s.loss.is_finite()));
    assert!(StopReason::NonFinite.describe().contains("NaN"));
}

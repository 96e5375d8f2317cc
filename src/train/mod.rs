//! `train`: fine-tune a zoo architecture with a new head on an ImageFolder tree with the
//! paper's protocol (Adam lr 1e-3, betas (0.5, 0.999), no weight decay, batches drawn uniformly
//! at random with replacement, stop when validation accuracy reaches a target after a minimum
//! number of iterations, or at a maximum), then write safetensors weights, a model card and an
//! evaluation report in the paper's Table 1 form.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tch::nn::OptimizerConfig as _;
use tch::{Device, Kind, Tensor, nn};

use crate::convert::{to_f64, to_i64};
use crate::dataset;
use crate::error::{Error, Result};
use crate::model::{Arch, Ctx, Model, ModelCard, Normalize, WriteCard as _};

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Architecture.
    pub arch: Arch,
    /// Folder with `train/` and `val/` (and optionally `test/`) ImageFolder trees.
    pub data: PathBuf,
    /// Output folder for weights, card and report.
    pub out: PathBuf,
    /// Name of the weights and card files.
    pub name: String,
    /// Stop when validation accuracy reaches this (checked after `min_iter`).
    pub target_val_acc: f64,
    /// Minimum iterations before stopping early.
    pub min_iter: usize,
    /// Maximum iterations.
    pub max_iter: usize,
    /// Validate every this many iterations.
    pub eval_every: usize,
    /// Batch size.
    pub batch: i64,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of weights and batch sampling.
    pub seed: i64,
    /// Input `[height, width]`.
    pub input_size: [i64; 2],
    /// Normalisation inside the model.
    pub normalize: Normalize,
    /// Initial weights (e.g. ImageNet), loaded where names and shapes fit.
    pub init: Option<PathBuf>,
    /// Initial bias of the new head's last layer (None: zero).
    pub head_bias: Option<f64>,
    /// Iterations of linear learning-rate warm-up from 0 (0: none).
    pub warmup: usize,
    /// The command line, recorded in the card.
    pub command: String,
}

/// The input size as image sides, when both are positive.
fn checked_size(size: [i64; 2]) -> Result<[usize; 2]> {
    match size.map(usize::try_from) {
        [Ok(h), Ok(w)] if h > 0 && w > 0 => Ok([h, w]),
        _ => Err(Error::invalid(format!("input size {size:?}: both sides must be positive"))),
    }
}

/// A split held in memory as 8-bit pixels.
struct Split {
    x: Tensor,
    y: Tensor,
    n: i64,
}

fn load_split(dir: &Path, classes: &[String], size: [usize; 2]) -> Result<Split> {
    let items = dataset::scan(dir, classes)?;
    let mut pixels: Vec<u8> = Vec::with_capacity(items.len() * 3 * size[0] * size[1]);
    for it in &items {
        let img = crate::input::load_image(&it.path, size)?;
        pixels.extend(img.data.iter().map(|&v| crate::io::image::to_u8(v)));
    }
    let n = i64::try_from(items.len()).map_err(|_| Error::invalid("too many images"))?;
    let (h, w) = (to_i64(size[0]), to_i64(size[1]));
    let labels: Vec<i64> = items.iter().map(|i| i.label).collect();
    Ok(Split {
        x: Tensor::from_slice(&pixels).view([n, 3, h, w]),
        y: Tensor::from_slice(&labels),
        n,
    })
}

fn batch_of(split: &Split, idx: &Tensor, device: Device) -> (Tensor, Tensor) {
    let x = split.x.index_select(0, idx).to_device(device).to_kind(Kind::Float) / 255.0;
    (x, split.y.index_select(0, idx).to_device(device))
}

/// Predictions of `model` (eval mode) on a whole split.
fn predict_split(model: &Model, split: &Split) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < split.n {
        let len = (split.n - start).min(64);
        let idx = Tensor::arange_start(start, start + len, (Kind::Int64, Device::Cpu));
        let (x, _) = batch_of(split, &idx, model.device());
        out.extend(crate::attribution::predict(model, &x)?);
        start += len;
    }
    Ok(out)
}

/// Accuracy, precision and recall (class 1 positive, as the paper's PNEUMONIA).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Images evaluated.
    pub n: usize,
    /// Fraction correct.
    pub accuracy: f64,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
}

fn metrics(pred: &[i64], truth: &[i64]) -> Metrics {
    let n = pred.len();
    let correct = pred.iter().zip(truth).filter(|(p, t)| p == t).count();
    let count = |f: fn(i64, i64) -> bool| {
        to_f64(pred.iter().zip(truth).filter(|&(&p, &t)| f(p, t)).count())
    };
    let (tp, fp, fnn) = (
        count(|p, t| p == 1 && t == 1),
        count(|p, t| p == 1 && t != 1),
        count(|p, t| p != 1 && t == 1),
    );
    let ratio = |a: f64, b: f64| if b == 0.0 { f64::NAN } else { a / b };
    Metrics {
        n,
        accuracy: ratio(to_f64(correct), to_f64(n)),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fnn),
    }
}

/// Evaluates `model` on an ImageFolder tree.
pub fn evaluate(model: &Model, dir: &Path) -> Result<Metrics> {
    let split = load_split(dir, &model.info().labels, model.info().image_size())?;
    let pred = predict_split(model, &split)?;
    Ok(metrics(&pred, &Vec::<i64>::try_from(&split.y)?))
}

/// The weights with the best validation accuracy so far, and when they were seen.
struct Best {
    metrics: Metrics,
    iteration: usize,
    weights: Vec<(String, Tensor)>,
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// The model card written.
    pub card: PathBuf,
    /// Iterations run.
    pub iterations: usize,
    /// Final validation metrics.
    pub val: Metrics,
    /// Test metrics, when a `test/` split exists.
    pub test: Option<Metrics>,
}

/// What a training run reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainProgress {
    /// A validation pass after `iteration` iterations.
    Validated {
        /// Iterations so far.
        iteration: usize,
        /// The training loss of the last batch.
        loss: f64,
        /// Validation accuracy.
        val_accuracy: f64,
        /// Seconds since training started.
        seconds: f64,
    },
    /// The target was not reached: the weights of an earlier, better validated iteration are
    /// kept.
    KeptBest {
        /// The iteration whose weights are kept.
        iteration: usize,
        /// Its validation accuracy.
        val_accuracy: f64,
    },
}

impl std::fmt::Display for TrainProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Validated { iteration, loss, val_accuracy, seconds } => write!(
                f,
                "iter {iteration:>5}  loss {loss:.4}  val acc {val_accuracy:.4}  {seconds:.1} s"
            ),
            Self::KeptBest { iteration, val_accuracy } => write!(
                f,
                "keeping the weights of iteration {iteration} (val acc {val_accuracy:.4})"
            ),
        }
    }
}

/// Trains, saves and evaluates, reporting every validation to `progress`.
pub fn train(
    opts: &TrainOptions,
    device: Device,
    progress: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainReport> {
    let train_dir = opts.data.join("train");
    let val_dir = opts.data.join("val");
    let classes: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(&train_dir)
            .map_err(|e| Error::io(&train_dir, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir() && e.file_name() != "masks")
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    if classes.len() < 2 {
        return Err(Error::invalid(format!(
            "{}: need at least two class folders",
            train_dir.display()
        )));
    }
    let size = checked_size(opts.input_size)?;
    let train = load_split(&train_dir, &classes, size)?;
    let val = load_split(&val_dir, &classes, size)?;
    let n_classes = to_i64(classes.len());
    let spec = crate::model::TrainableSpec {
        arch: opts.arch,
        classes: n_classes,
        labels: classes.clone(),
        normalize: opts.normalize,
        input_size: opts.input_size,
        init: opts.init.as_deref(),
        seed: opts.seed,
        head_bias: opts.head_bias,
    };
    let model = Model::for_training(spec, device)?;
    let vs = model.var_store().ok_or_else(|| Error::invalid("not a native model"))?;
    let mut opt =
        nn::Adam { beta1: 0.5, beta2: 0.999, wd: 0.0, ..Default::default() }.build(vs, opts.lr)?;
    let val_truth = Vec::<i64>::try_from(&val.y)?;
    let start = Instant::now();
    let mut val_metrics = metrics(&[], &[]);
    let mut best: Option<Best> = None;
    let mut it = 0;
    while it < opts.max_iter {
        it += 1;
        if opts.warmup > 0 {
            opt.set_lr(opts.lr * (to_f64(it) / to_f64(opts.warmup)).min(1.0));
        }
        let idx = Tensor::randint(train.n, [opts.batch], (Kind::Int64, Device::Cpu));
        let (x, y) = batch_of(&train, &idx, device);
        let logits = model.forward_ctx(&x, &mut Ctx::training())?;
        let loss = logits.cross_entropy_for_logits(&y);
        opt.backward_step(&loss);
        let last = it == opts.max_iter;
        if it % opts.eval_every.max(1) == 0 || last {
            val_metrics = metrics(&predict_split(&model, &val)?, &val_truth);
            progress(&TrainProgress::Validated {
                iteration: it,
                loss: loss.double_value(&[]),
                val_accuracy: val_metrics.accuracy,
                seconds: start.elapsed().as_secs_f64(),
            });
            if best.as_ref().is_none_or(|b| val_metrics.accuracy > b.metrics.accuracy) {
                let copy = tch::no_grad(|| {
                    vs.variables().into_iter().map(|(n, t)| (n, t.copy())).collect()
                });
                best = Some(Best { metrics: val_metrics, iteration: it, weights: copy });
            }
            if it >= opts.min_iter && val_metrics.accuracy >= opts.target_val_acc {
                break;
            }
        }
    }
    // Without the target reached, keep the best validated weights, not the last ones.
    let mut best_iter = it;
    if let Some(Best { metrics: m, iteration: at, weights: copy }) = best
        && m.accuracy > val_metrics.accuracy
    {
        let mut vars = vs.variables();
        tch::no_grad(|| -> Result<()> {
            for (name, saved) in &copy {
                if let Some(v) = vars.get_mut(name) {
                    v.f_copy_(saved)?;
                }
            }
            Ok(())
        })?;
        val_metrics = m;
        best_iter = at;
        progress(&TrainProgress::KeptBest { iteration: at, val_accuracy: m.accuracy });
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    let weights = opts.out.join(format!("{}.safetensors", opts.name));
    // Saved beside it under a temporary name, then renamed: a kill never leaves half a file.
    let tmp = opts.out.join(format!(".{}.{}.tmp.safetensors", opts.name, std::process::id()));
    vs.save(&tmp)?;
    std::fs::rename(&tmp, &weights).map_err(|e| Error::io(&weights, e))?;
    let test_dir = opts.data.join("test");
    let test = if test_dir.is_dir() {
        let split = load_split(&test_dir, &classes, size)?;
        Some(metrics(&predict_split(&model, &split)?, &Vec::<i64>::try_from(&split.y)?))
    } else {
        None
    };
    let mut provenance = serde_json::Map::new();
    provenance.insert("data".into(), serde_json::json!(opts.data.display().to_string()));
    provenance.insert("training_command".into(), serde_json::json!(opts.command));
    provenance.insert(
        "protocol".into(),
        serde_json::json!(format!(
            "Adam lr {} betas (0.5, 0.999) weight decay 0, {} warm-up iterations, head bias {}, \
             batch {} drawn uniformly with replacement, seed {}, stop at val acc >= {} after {} \
             iterations or at {}; the best validated weights are kept",
            opts.lr,
            opts.warmup,
            opts.head_bias.unwrap_or(0.0),
            opts.batch,
            opts.seed,
            opts.target_val_acc,
            opts.min_iter,
            opts.max_iter
        )),
    );
    provenance.insert("iterations".into(), serde_json::json!(it));
    provenance.insert("weights_from_iteration".into(), serde_json::json!(best_iter));
    provenance.insert("train_images".into(), serde_json::json!(train.n));
    let json = |m: &Metrics| {
        serde_json::to_value(m).map_err(|e| Error::invalid(format!("metrics as JSON: {e}")))
    };
    provenance.insert("validation".into(), json(&val_metrics)?);
    if let Some(t) = &test {
        provenance.insert("test".into(), json(t)?);
    }
    let card = ModelCard {
        arch: opts.arch.name().to_owned(),
        classes: n_classes,
        labels: Some(crate::model::Labels::List(classes)),
        normalize: opts.normalize.name().to_owned(),
        input_size: opts.input_size,
        weights: PathBuf::from(format!("{}.safetensors", opts.name)),
        channels: None,
        multilabel: None,
        provenance,
    };
    let card_path = opts.out.join(format!("{}.json", opts.name));
    card.write(&card_path)?;
    Ok(TrainReport { card: card_path, iterations: it, val: val_metrics, test })
}

/// The paper's Table 1 row for a report.
pub fn table(name: &str, r: &TrainReport) -> String {
    let (acc, prec, rec) =
        r.test.map_or((f64::NAN, f64::NAN, f64::NAN), |t| (t.accuracy, t.precision, t.recall));
    format!(
        "model             accuracy  precision  recall  val accuracy\n\
         {name:17} {acc:8.4}  {prec:9.4}  {rec:6.4}  {:12.4}\n",
        r.val.accuracy
    )
}

//! What each subcommand does. Results go to stdout or files; progress to stderr.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::args::{
    AttributeArgs, AxArgs, BenchArgs, Cli, Cmd, GaxArgs, GuiArgs, PhantomArgs, PredictArgs,
};
use super::progress::Progress;
use crate::app::Startup;
use crate::attribution::{self, Method, Options};
use crate::ax;
use crate::convert::{i64_to_f64, to_f64};
use crate::error::{Error, Result};
use crate::gax::{self, GaxConfig};
use crate::io::image::Image;
use crate::io::runfile::{ModelIdentity, RunRecord};
use crate::model::Model;
use crate::runtime;

/// Runs the parsed command line. `open_gui` opens the window (kept outside the library's
/// testable path because it needs a display).
pub fn run(cli: Cli, open_gui: &dyn Fn(Startup) -> Result<()>) -> Result<()> {
    crate::io::fault::panic_if_asked();
    runtime::set_threads(cli.threads)?;
    let device = cli.device;
    match cli.command {
        None => open_gui(Startup { device, ..Startup::default() }),
        Some(Cmd::Gui(g)) => gui(g, device, open_gui),
        Some(Cmd::Info) => {
            let d = device.resolve()?;
            for line in runtime::info_lines(d) {
                println!("{line}");
            }
            Ok(())
        }
        Some(Cmd::Predict(a)) => predict(&a, device),
        Some(Cmd::Image(a)) => super::image::run(&a),
        Some(Cmd::Attribute(a)) => attribute(&a, device),
        Some(Cmd::Ax(a)) => ax_cmd(&a, device),
        Some(Cmd::Gax(a)) => gax_cmd(&a, device),
        Some(Cmd::Bench(a)) => bench(&a, device),
        Some(Cmd::Merge(a)) => super::dataset::merge(&a),
        Some(Cmd::Train(a)) => super::train::run(a, device),
        Some(Cmd::Phantom(a)) => phantom_cmd(&a),
        Some(Cmd::Cluster(a)) => super::cluster::run(&a, device),
        Some(Cmd::Toy2d(a)) => super::toy2d::run(&a),
    }
}

fn gui(
    g: GuiArgs,
    device: runtime::DeviceChoice,
    open_gui: &dyn Fn(Startup) -> Result<()>,
) -> Result<()> {
    let model = g.model.source()?;
    open_gui(Startup { device, model, images: g.image, runs: g.run, auto_gax: g.gax, faults: None })
}

fn load(args: &super::args::ModelArgs, device: runtime::DeviceChoice) -> Result<Model> {
    Model::load(&args.require()?, device.resolve()?)
}

fn load_image(model: &Model, path: &Path, dicom: &super::args::DicomArgs) -> Result<Image> {
    crate::input::load_image_with(path, model.info().image_size(), &dicom.options())
}

fn predict(a: &PredictArgs, device: runtime::DeviceChoice) -> Result<()> {
    let model = load(&a.model, device)?;
    let img = load_image(&model, &a.image, &a.dicom)?;
    let x = crate::input::to_tensor(&img, model.info().channels, model.device())?;
    model.check_input(&x)?;
    let logits = tch::no_grad(|| model.forward(&x))?.to_device(tch::Device::Cpu);
    crate::model::check_finite(&logits, || format!("the logits of {}", a.image.display()))?;
    let probs = Vec::<f32>::try_from(model.info().probabilities(&logits).view([-1]))?;
    let lv = Vec::<f32>::try_from(logits.view([-1]))?;
    let mut order: Vec<usize> = (0..lv.len()).collect();
    order.sort_by(|&i, &j| lv[j].total_cmp(&lv[i]));
    order.truncate(a.top.max(1));
    let labels = &model.info().labels;
    if a.json {
        let top: Vec<_> = order
            .iter()
            .map(|&i| {
                serde_json::json!({
                    "class": i, "label": labels.get(i), "logit": lv[i], "prob": probs[i]
                })
            })
            .collect();
        let v = serde_json::json!({
            "image": a.image,
            "multilabel": model.info().multilabel,
            "predicted": order[0],
            "label": labels.get(order[0]),
            "top": top,
            "logits": lv
        });
        println!("{v}");
    } else {
        for &i in &order {
            println!(
                "{i}\t{}\tlogit {:.4}\tprob {:.4}",
                labels.get(i).map_or("", String::as_str),
                lv[i],
                probs[i]
            );
        }
    }
    Ok(())
}

fn attribute(a: &AttributeArgs, device: runtime::DeviceChoice) -> Result<()> {
    let method = Method::parse(&a.method)?;
    let model = load(&a.model, device)?;
    let img = load_image(&model, &a.image, &a.dicom)?;
    let x = crate::input::to_tensor(&img, model.info().channels, model.device())?;
    let targets = a.target.as_deref().map(|t| model.info().output_index(t)).transpose()?;
    let targets = targets.map(|t| vec![t]);
    let opts = Options { abs: a.abs, layer: a.layer.clone() };
    let attr = attribution::attribute(&model, &x, targets.as_deref(), method, &opts)?;
    let v = Vec::<f32>::try_from(attr.to_device(tch::Device::Cpu).view([-1]))?;
    let channels = crate::convert::to_usize(model.info().channels);
    crate::io::npy::write_f32(&a.out, &[channels, img.height, img.width], &v)?;
    eprintln!("{method} written to {}", a.out.display());
    Ok(())
}

fn ax_cmd(a: &AxArgs, device: runtime::DeviceChoice) -> Result<()> {
    let methods = Method::parse_list(&a.methods)?;
    let model = load(&a.model, device)?;
    if let Some(dir) = &a.data {
        return match super::dataset::ax_data(&model, dir, &methods, a) {
            // Even single images do not fit on the GPU: the rows so far stay, the run resumes on
            // the CPU.
            Err(e) if e.is_out_of_memory() && model.device().is_cuda() => {
                eprintln!("warning: {e}; even one image does not fit, resuming on the CPU");
                let cpu = Model::load(&a.model.require()?, tch::Device::Cpu)?;
                super::dataset::ax_data(&cpu, dir, &methods, a)
            }
            r => r,
        };
    }
    let Some(path) = &a.image else {
        return Err(Error::invalid("ax needs --image PATH or --data DIR"));
    };
    let img = load_image(&model, path, &a.dicom)?;
    let x = crate::input::to_tensor(&img, model.info().channels, model.device())?;
    let label = a.label.as_deref().map(|l| model.info().output_index(l)).transpose()?;
    let labels = label.map(|l| vec![l]);
    let (pred, scores) =
        ax::ax_batch(&model, &x, labels.as_deref(), &methods, &Options::default())?;
    let mut co = serde_json::Map::new();
    let mut flagged = Vec::new();
    for s in &scores[0] {
        co.insert(s.method.name().to_owned(), serde_json::json!({"sum": s.sum, "mult": s.mult}));
        if s.zero_attribution {
            flagged.push(s.method.name());
        }
    }
    let mut v =
        serde_json::json!({"predicted": pred[0], "label": label.unwrap_or(pred[0]), "co": co});
    if !flagged.is_empty() {
        v["zero_attribution"] = serde_json::json!(flagged);
    }
    let text = v.to_string();
    match &a.out {
        Some(out) => crate::io::write_atomic(out, format!("{text}\n").as_bytes())?,
        None => println!("{text}"),
    }
    Ok(())
}

fn indexed(path: &Path, i: usize, n: usize) -> PathBuf {
    if n == 1 {
        return path.to_owned();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}.{i}{ext}"))
}

fn gax_cmd(a: &GaxArgs, device: runtime::DeviceChoice) -> Result<()> {
    let model = load(&a.model, device)?;
    let images: Vec<Image> =
        a.image.iter().map(|p| load_image(&model, p, &a.dicom)).collect::<Result<_>>()?;
    let refs: Vec<&Image> = images.iter().collect();
    let x = crate::input::batch(&refs, model.info().channels, model.device())?;
    let predicted = attribution::predict(&model, &x)?;
    let label = a.label.as_deref().map(|l| model.info().output_index(l)).transpose()?;
    let labels: Vec<i64> = match label {
        None => predicted.clone(),
        Some(l) => {
            // A multi-label model's outputs are findings, not rival classes: any may be chosen.
            for (p, path) in predicted.iter().zip(&a.image) {
                if *p != l && !a.force && !model.info().multilabel {
                    return Err(Error::invalid(format!(
                        "{}: the model predicts class {p}, not the label {l}; the paper runs GAX \
                         on correctly predicted images only (add --force to maximise class {l} \
                         anyway)",
                        path.display()
                    )));
                }
            }
            vec![l; images.len()]
        }
    };
    let config = GaxConfig {
        lr: a.lr,
        lambda: a.lambda,
        target_co: a.target_co,
        max_steps: a.max_steps,
        variant: a.variant,
        engine: a.engine,
        ..GaxConfig::default()
    };
    let identity = ModelIdentity::from(model.info());
    let mut records: Vec<RunRecord> = images
        .iter()
        .zip(&a.image)
        .zip(&labels)
        .map(|((img, p), &l)| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            RunRecord::new(config.clone(), img.clone(), name, l, identity.clone())
        })
        .collect();
    let start = Instant::now();
    let n = images.len();
    let max = a.max_steps as u64;
    let mut bar = Progress::new("steps", max, a.quiet);
    let mut on_step = |s: gax::GaxStep| {
        let (image, step, co) = (s.image, s.step, s.co);
        records[image].push(s);
        let rate = to_f64(step) / start.elapsed().as_secs_f64().max(1e-9);
        bar.set(step as u64, max, &format!("CO {co:>10.4}  {rate:>7.2} steps/s"));
    };
    let outcome = gax::run(&model, &x, &labels, &config, &|| false, &mut on_step)?;
    let secs = start.elapsed().as_secs_f64();
    bar.finish();
    let mut trace = String::from(if n > 1 {
        "image,step,co,loss,similarity,abs_max,predicted\n"
    } else {
        "step,co,loss,similarity,abs_max,predicted\n"
    });
    for (i, (rec, (reason, last))) in records.iter_mut().zip(&outcome).enumerate() {
        rec.stop = Some(*reason);
        let co = rec.steps.last().map_or(0.0, |s| s.co);
        eprintln!(
            "{}: {} at step {last}, CO {co:.4} ({secs:.1} s total)",
            a.image[i].display(),
            reason.describe()
        );
        rec.save(&indexed(&a.out, i, n))?;
        if let Some(npy) = &a.npy {
            rec.export_npy(&indexed(npy, i, n))?;
        }
        for line in rec.trace_csv().lines().skip(1) {
            if n > 1 {
                trace.push_str(&format!("{i},"));
            }
            trace.push_str(line);
            trace.push('\n');
        }
    }
    if let Some(t) = &a.trace {
        crate::io::write_atomic(t, trace.as_bytes())?;
    }
    if let Some(i) = outcome.iter().position(|(r, _)| *r == gax::StopReason::NonFinite) {
        return Err(Error::NonFinite(format!(
            "GAX of {} after step {} (the steps before are saved in {})",
            a.image[i].display(),
            outcome[i].1,
            indexed(&a.out, i, n).display()
        )));
    }
    Ok(())
}

fn phantom_cmd(a: &PhantomArgs) -> Result<()> {
    let opts = crate::phantom::PhantomOptions {
        count: a.count,
        seed: a.seed,
        splits: a.split.clone(),
        pneumonia_fraction: a.pneumonia_fraction,
    };
    let start = Instant::now();
    let summary = crate::phantom::write_dataset(&a.out, &opts)?;
    eprintln!(
        "phantom: wrote {summary} to {} in {:.1} s",
        a.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench(a: &BenchArgs, device: runtime::DeviceChoice) -> Result<()> {
    if a.what == "dicom" {
        return super::bench_dicom::run(a);
    }
    let dev = device.resolve()?;
    println!("# heatmap-explorer bench {} on {}", a.what, runtime::describe_device(dev));
    let batches: Vec<i64> = a
        .batch
        .split(',')
        .map(|b| b.trim().parse().map_err(|_| Error::invalid(format!("bad batch '{b}'"))))
        .collect::<Result<_>>()?;
    for arch in a.arch.split(',').map(str::trim) {
        let arch = crate::model::Arch::parse(arch)?;
        for &b in &batches {
            if a.what == "gax" {
                for &engine in &a.engine {
                    let (ms, co) = crate::bench::gax(arch, b, a.steps, a.size, engine, dev)?;
                    let name = clap::ValueEnum::to_possible_value(&engine.resolve(dev))
                        .map(|v| v.get_name().to_owned())
                        .unwrap_or_default();
                    println!(
                        "ours gax {arch} batch={b} size={} engine={name}: {ms:.2} ms/step, \
                         {:.1} image-steps/s (mean CO at step {}: {co:.4})",
                        a.size,
                        i64_to_f64(b) * 1000.0 / ms,
                        a.steps
                    );
                }
            } else {
                for m in Method::parse_list(&a.methods)? {
                    let ms = crate::bench::attribute(arch, m, b, a.steps, a.size, dev)?;
                    println!(
                        "ours attribute {arch} {m} batch={b}: {ms:.2} ms/call, {:.2} ms/image",
                        ms / i64_to_f64(b)
                    );
                }
            }
        }
    }
    Ok(())
}

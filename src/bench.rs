//! Benchmarks behind `heatmap-explorer bench`: GAX steps and attribution methods on random-weight
//! models, timed the way `../shared/anchors/gax_anchor.py` times the PyTorch side.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::attribution::{self, Method, Options};
use crate::error::Result;
use crate::gax::{self, Engine, GaxConfig};
use crate::model::{Arch, Model, ModelSource, Normalize};

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i64::try_from(i).unwrap_or(0));
    }
}

fn random_model(arch: Arch, classes: i64, device: Device) -> Result<Model> {
    Model::load(&ModelSource::Random { arch, classes, normalize: Normalize::None, seed: 0 }, device)
}

/// Times `steps` GAX steps of a batch with `engine`; returns milliseconds per step and the
/// mean CO of the last step (equal across engines, which is worth seeing where they are timed).
///
/// The clock runs from the report of step 0 to the report of the last step of the last image:
/// `steps` updates and evaluations, each with its readout copied to the host, and no setup
/// (baseline forward, CUDA-graph capture).
pub fn gax(arch: Arch, batch: i64, steps: usize, size: i64, engine: Engine, device: Device) -> Result<(f64, f64)> {
    let model = random_model(arch, arch.default_classes(), device)?;
    tch::manual_seed(1);
    let x = Tensor::rand([batch, 3, size, size], (Kind::Float, device));
    let labels = attribution::predict(&model, &x)?;
    let warm = GaxConfig { max_steps: 3, target_co: f64::INFINITY, engine, ..GaxConfig::default() };
    gax::run(&model, &x, &labels, &warm, &|| false, &mut |_| {})?;
    sync(device);
    let cfg = GaxConfig { max_steps: steps, ..warm };
    let mut first = None;
    let mut last = Instant::now();
    let mut co = 0.0;
    gax::run(&model, &x, &labels, &cfg, &|| false, &mut |s| {
        last = Instant::now();
        if s.step == 0 {
            first.get_or_insert(last);
        }
        if s.step == steps {
            co += f64::from(s.co) / batch as f64;
        }
    })?;
    let first = first.unwrap_or(last);
    Ok((1000.0 * last.duration_since(first).as_secs_f64() / steps.max(1) as f64, co))
}

/// Times one method on a batch; returns milliseconds per call.
pub fn attribute(arch: Arch, method: Method, batch: i64, reps: usize, size: i64, device: Device) -> Result<f64> {
    let model = random_model(arch, arch.default_classes(), device)?;
    tch::manual_seed(2);
    let x = Tensor::rand([batch, 3, size, size], (Kind::Float, device));
    let targets = attribution::predict(&model, &x)?;
    let opts = Options::default();
    let _ = attribution::attribute(&model, &x, Some(&targets), method, &opts)?;
    sync(device);
    let t = Instant::now();
    for _ in 0..reps {
        let _ = attribution::attribute(&model, &x, Some(&targets), method, &opts)?;
    }
    sync(device);
    Ok(1000.0 * t.elapsed().as_secs_f64() / reps.max(1) as f64)
}

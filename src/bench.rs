//! Benchmarks behind `heatmap-explorer bench`: GAX steps and attribution methods on random-weight
//! models, timed the way `../shared/anchors/gax_anchor.py` times the PyTorch side.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::attribution::{self, Method, Options};
use crate::error::Result;
use crate::gax::{self, GaxConfig};
use crate::model::{Arch, Model, ModelSource, Normalize};

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i64::try_from(i).unwrap_or(0));
    }
}

fn random_model(arch: Arch, classes: i64, device: Device) -> Result<Model> {
    Model::load(&ModelSource::Random { arch, classes, normalize: Normalize::None, seed: 0 }, device)
}

/// Times `steps` GAX steps of a batch; returns milliseconds per step.
pub fn gax(arch: Arch, batch: i64, steps: usize, size: i64, device: Device) -> Result<f64> {
    let model = random_model(arch, arch.default_classes(), device)?;
    tch::manual_seed(1);
    let x = Tensor::rand([batch, 3, size, size], (Kind::Float, device));
    let labels = attribution::predict(&model, &x)?;
    let warm = GaxConfig { max_steps: 3, target_co: f64::INFINITY, ..GaxConfig::default() };
    gax::run(&model, &x, &labels, &warm, &|| false, &mut |_| {})?;
    sync(device);
    let cfg = GaxConfig { max_steps: steps, ..warm };
    let t = Instant::now();
    // steps updates and steps + 1 evaluations; the last evaluation has no backward, so this
    // slightly overstates the per-step time.
    gax::run(&model, &x, &labels, &cfg, &|| false, &mut |_| {})?;
    sync(device);
    Ok(1000.0 * t.elapsed().as_secs_f64() / steps as f64)
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

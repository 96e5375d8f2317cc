//! Benchmarks behind `heatmap-explorer bench`: GAX steps and attribution methods on random-weight
//! models, timed the way `../shared/anchors/gax_anchor.py` times the PyTorch side.

use std::time::Instant;

use tch::{Device, Kind, Tensor};

use crate::attribution::{self, Method, Options};
use crate::convert::{i64_to_f64, to_f64, to_i64};
use crate::error::{Error, Result};
use crate::gax::{self, Engine, GaxConfig};
use crate::model::{Arch, Model, ModelSource, Normalize};

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(to_i64(i));
    }
}

fn random_model(arch: Arch, classes: i64, device: Device) -> Result<Model> {
    Model::load(&ModelSource::Random { arch, classes, normalize: Normalize::None, seed: 0 }, device)
}

/// Times `steps` GAX steps of a batch with `engine`; returns milliseconds per step and the
/// mean CO of the last step (equal across engines, which is worth seeing where they are timed).
///
/// The clock runs from the first report of step 1 to the first report of step `steps` − 1:
/// `steps` − 2 whole periods of the step loop (update, evaluation, readout copied to the host
/// and split per image), with no setup (baseline forward, CUDA-graph capture) and neither end of
/// a pipelined run (the graph engine computes a step ahead of its report, so its first report
/// comes two computations in and its last after none).
pub fn gax(
    arch: Arch,
    batch: i64,
    steps: usize,
    size: i64,
    engine: Engine,
    device: Device,
) -> Result<(f64, f64)> {
    if steps < 3 {
        return Err(Error::invalid("bench gax needs at least 3 steps"));
    }
    let model = random_model(arch, arch.default_classes(), device)?;
    tch::manual_seed(1);
    let x = Tensor::rand([batch, model.info().channels, size, size], (Kind::Float, device));
    let labels = attribution::predict(&model, &x)?;
    let warm = GaxConfig { max_steps: 3, target_co: f64::INFINITY, engine, ..GaxConfig::default() };
    gax::run(&model, &x, &labels, &warm, &|| false, &mut |_| {})?;
    sync(device);
    let cfg = GaxConfig { max_steps: steps, ..warm };
    let (mut start, mut end) = (None, None);
    let mut co = 0.0;
    gax::run(&model, &x, &labels, &cfg, &|| false, &mut |s| {
        if s.step == 1 {
            start.get_or_insert_with(Instant::now);
        } else if s.step == steps - 1 {
            end.get_or_insert_with(Instant::now);
        } else if s.step == steps {
            co += f64::from(s.co) / i64_to_f64(batch);
        }
    })?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(Error::invalid("bench gax: the run stopped early"));
    };
    Ok((1000.0 * end.duration_since(start).as_secs_f64() / to_f64(steps - 2), co))
}

/// Times one method on a batch; returns milliseconds per call.
pub fn attribute(
    arch: Arch,
    method: Method,
    batch: i64,
    reps: usize,
    size: i64,
    device: Device,
) -> Result<f64> {
    let model = random_model(arch, arch.default_classes(), device)?;
    tch::manual_seed(2);
    let x = Tensor::rand([batch, model.info().channels, size, size], (Kind::Float, device));
    let targets = attribution::predict(&model, &x)?;
    let opts = Options::default();
    let _ = attribution::attribute(&model, &x, Some(&targets), method, &opts)?;
    sync(device);
    let t = Instant::now();
    for _ in 0..reps {
        let _ = attribution::attribute(&model, &x, Some(&targets), method, &opts)?;
    }
    sync(device);
    Ok(1000.0 * t.elapsed().as_secs_f64() / to_f64(reps.max(1)))
}

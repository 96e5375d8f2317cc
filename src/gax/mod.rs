//! GAX (SPEC §6): a per-pixel heatmap h = tanh(W ⊙ x + b) optimised with Adam to maximise the
//! CO score, reported step by step.

pub mod adam;
pub mod compact;
pub mod cuda_graph;
pub mod engine;
mod step;

use serde::{Deserialize, Serialize};

pub use compact::CompactHeatmap;
pub use engine::{StopReason, run};

use crate::ax::Variant;

/// How GAX steps execute. All give the same numbers; the choice is not part of a run's
/// identity and is not saved in run files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Engine {
    /// Graph on a CUDA device where this binary can capture CUDA graphs, else eager.
    #[default]
    Auto,
    /// Define-by-run: a fresh autograd graph per step; finished images leave the batch at once.
    Eager,
    /// One fixed step on static buffers, captured as a CUDA graph on a GPU (where this binary
    /// was built with the CUDA-graph shim) and replayed; on the CPU the same step runs
    /// uncaptured. Finished images are compacted away once at most half the batch runs.
    Graph,
}

impl Engine {
    /// The engine that runs on `device`: [`Engine::Auto`] resolved, the others as they are.
    pub fn resolve(self, device: tch::Device) -> Self {
        match self {
            Self::Auto if device.is_cuda() && cuda_graph::AVAILABLE => Self::Graph,
            Self::Auto => Self::Eager,
            e => e,
        }
    }
}

/// GAX hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaxConfig {
    /// Adam learning rate.
    pub lr: f64,
    /// Weight λ of the similarity term.
    pub lambda: f64,
    /// Stop once CO exceeds this (infinite: never; stored as `null` in JSON).
    #[serde(serialize_with = "target_out", deserialize_with = "target_in")]
    pub target_co: f64,
    /// Stop after this many updates.
    pub max_steps: usize,
    /// x + h or x ⊙ h.
    pub variant: Variant,
    /// ε in the similarity term.
    pub eps: f64,
    /// How many top classes each step reports.
    pub top_k: usize,
    /// How steps execute.
    #[serde(skip)]
    pub engine: Engine,
}

fn target_out<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    v.is_finite().then_some(*v).serialize(s)
}

fn target_in<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

impl Default for GaxConfig {
    fn default() -> Self {
        Self {
            lr: 0.1,
            lambda: 100.0,
            target_co: 48.0,
            max_steps: 500,
            variant: Variant::Sum,
            eps: 1e-4,
            top_k: 5,
            engine: Engine::Auto,
        }
    }
}

impl GaxConfig {
    /// Checks the values a user can type.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |m: &str| Err(crate::Error::invalid(m.to_owned()));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("the learning rate must be a positive number");
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return bad("λ must be a non-negative number");
        }
        if self.target_co.is_nan() {
            return bad("the target CO must be a number");
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("ε must be positive");
        }
        Ok(())
    }
}

/// One reported step of one image.
#[derive(Debug, Clone)]
pub struct GaxStep {
    /// Index of the image in the batch.
    pub image: usize,
    /// Number of Adam updates applied before this heatmap (0 = initial).
    pub step: usize,
    /// CO of this step's heatmap.
    pub co: f32,
    /// Loss of this step's heatmap.
    pub loss: f32,
    /// The similarity term mean[(h − x + ε)² / (x + ε)].
    pub similarity: f32,
    /// max |h|.
    pub abs_max: f32,
    /// The predicted class on x'.
    pub predicted: i64,
    /// Top classes on x' as (class, probability: sigmoid for a multi-label model).
    pub top: Vec<(i64, f32)>,
    /// The heatmap `[C, H, W]` (C = the model's input channels).
    pub heatmap: CompactHeatmap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_engine_is_eager_on_the_cpu_and_graph_on_a_gpu_that_can_capture() {
        assert_eq!(Engine::Auto.resolve(tch::Device::Cpu), Engine::Eager);
        let on_gpu = if cuda_graph::AVAILABLE { Engine::Graph } else { Engine::Eager };
        assert_eq!(Engine::Auto.resolve(tch::Device::Cuda(0)), on_gpu);
        for e in [Engine::Eager, Engine::Graph] {
            assert_eq!(e.resolve(tch::Device::Cpu), e);
            assert_eq!(e.resolve(tch::Device::Cuda(0)), e);
        }
        assert_eq!(GaxConfig::default().engine, Engine::Auto);
    }
}

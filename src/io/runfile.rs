//! GAX run files: every step's heatmap and scalars, the input image, the model's identity, the
//! config and versions, in one safetensors file (readable from Python with
//! `safetensors.numpy.load_file`) written atomically. Parsing the bytes lives in
//! `hx_formats::runfile` (fuzzed without libtorch).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;

use super::image::Image;
use crate::error::{Error, Result};
use crate::gax::{CompactHeatmap, GaxConfig, GaxStep, StopReason};
use crate::model::ModelInfo;

pub use hx_formats::runfile::{FORMAT, ModelIdentity, RunFileError, StepScalars};

impl From<&ModelInfo> for ModelIdentity {
    fn from(info: &ModelInfo) -> Self {
        Self {
            arch: info.arch.clone(),
            hash: info.hash.clone(),
            source: info.source.clone(),
            labels: info.labels.clone(),
            normalize: info.normalize.name().to_owned(),
        }
    }
}

/// A whole GAX run of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Hyper-parameters.
    pub config: GaxConfig,
    /// The input image at model resolution.
    pub image: Image,
    /// The image's file name.
    pub image_name: String,
    /// The label GAX maximised.
    pub label: i64,
    /// The model.
    pub model: ModelIdentity,
    /// Per-step scalars, step 0 first.
    pub steps: Vec<StepScalars>,
    /// Per-step heatmaps, aligned with `steps`.
    pub heatmaps: Vec<CompactHeatmap>,
    /// Why the run ended (None while running).
    pub stop: Option<StopReason>,
}

impl RunRecord {
    /// An empty record for a run about to start.
    pub fn new(
        config: GaxConfig,
        image: Image,
        image_name: String,
        label: i64,
        model: ModelIdentity,
    ) -> Self {
        Self {
            config,
            image,
            image_name,
            label,
            model,
            steps: Vec::new(),
            heatmaps: Vec::new(),
            stop: None,
        }
    }

    /// Appends one streamed step.
    pub fn push(&mut self, s: GaxStep) {
        self.steps.push(StepScalars {
            co: s.co,
            loss: s.loss,
            similarity: s.similarity,
            abs_max: s.abs_max,
            predicted: s.predicted,
        });
        self.heatmaps.push(s.heatmap);
    }

    /// The heatmaps' channels: the model's input channels (3, or 1 for a 1-channel model); 3
    /// before the first step.
    pub fn channels(&self) -> usize {
        self.heatmaps.first().map_or(3, CompactHeatmap::channels)
    }

    /// Drops the steps streamed so far: the run restarts from step 0 (on another device).
    pub fn restart(&mut self) {
        self.steps.clear();
        self.heatmaps.clear();
        self.stop = None;
    }

    /// Writes the run to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        super::write_atomic(path, &self.to_bytes()?)
    }

    /// Serialises the run.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let t = self.steps.len();
        let (h, w) = (self.image.height, self.image.width);
        let c = self.channels();
        if self.heatmaps.iter().any(|m| m.channels() != c || m.data.len() != c * h * w) {
            return Err(Error::invalid("run file: the steps' heatmaps differ in shape"));
        }
        let heat: Vec<u8> = self.heatmaps.iter().flat_map(CompactHeatmap::to_le_bytes).collect();
        let f32s = |f: fn(&StepScalars) -> f32| -> Vec<u8> {
            self.steps.iter().flat_map(|s| f(s).to_le_bytes()).collect()
        };
        let co = f32s(|s| s.co);
        let loss = f32s(|s| s.loss);
        let sim = f32s(|s| s.similarity);
        let amax = f32s(|s| s.abs_max);
        let pred: Vec<u8> = self.steps.iter().flat_map(|s| s.predicted.to_le_bytes()).collect();
        let img: Vec<u8> = self.image.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let err = |e: safetensors::SafeTensorError| Error::invalid(format!("run file: {e:?}"));
        let views = vec![
            ("heatmaps", TensorView::new(Dtype::F16, vec![t, c, h, w], &heat).map_err(err)?),
            ("co", TensorView::new(Dtype::F32, vec![t], &co).map_err(err)?),
            ("loss", TensorView::new(Dtype::F32, vec![t], &loss).map_err(err)?),
            ("similarity", TensorView::new(Dtype::F32, vec![t], &sim).map_err(err)?),
            ("abs_max", TensorView::new(Dtype::F32, vec![t], &amax).map_err(err)?),
            ("predicted", TensorView::new(Dtype::I64, vec![t], &pred).map_err(err)?),
            ("image", TensorView::new(Dtype::F32, vec![3, h, w], &img).map_err(err)?),
        ];
        let mut meta = HashMap::new();
        meta.insert("format".to_owned(), FORMAT.to_owned());
        meta.insert("config".to_owned(), json(&self.config));
        meta.insert("model".to_owned(), json(&self.model));
        meta.insert("stop".to_owned(), json(&self.stop));
        meta.insert("image_name".to_owned(), self.image_name.clone());
        meta.insert("label".to_owned(), self.label.to_string());
        meta.insert("heatmap_explorer".to_owned(), env!("CARGO_PKG_VERSION").to_owned());
        meta.insert("libtorch".to_owned(), crate::runtime::LIBTORCH_VERSION.to_owned());
        safetensors::serialize(views, &Some(meta)).map_err(err)
    }

    /// Reads a run file; needs no model and no GPU.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes).map_err(|e| Error::format(path, e.to_string()))
    }

    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, RunFileError> {
        let p = hx_formats::runfile::parse::<GaxConfig, StopReason>(bytes)?;
        let (height, width) = (p.height, p.width);
        Ok(Self {
            config: p.config,
            image: Image { width, height, data: p.image },
            image_name: p.image_name,
            label: p.label,
            model: p.model,
            steps: p.steps,
            heatmaps: p
                .heatmaps
                .into_iter()
                .map(|data| CompactHeatmap { height, width, data })
                .collect(),
            stop: p.stop,
        })
    }

    /// The step stack `[T, C, H, W]` as float32 `.npy` (C = 3, or 1 for a 1-channel model).
    pub fn export_npy(&self, path: &Path) -> Result<()> {
        super::write_atomic(path, &self.steps_npy()?)
    }

    /// The step stack `[T, C, H, W]` as float32 `.npy` bytes.
    pub fn steps_npy(&self) -> Result<Vec<u8>> {
        let data: Vec<f32> = self.heatmaps.iter().flat_map(CompactHeatmap::to_f32).collect();
        let (t, c) = (self.heatmaps.len(), self.channels());
        super::npy::encode_f32(&[t, c, self.image.height, self.image.width], &data)
    }

    /// The curve as CSV in the `gax --trace` layout.
    pub fn trace_csv(&self) -> String {
        let mut s = String::from("step,co,loss,similarity,abs_max,predicted\n");
        for (i, st) in self.steps.iter().enumerate() {
            s.push_str(&format!(
                "{i},{},{},{},{},{}\n",
                st.co, st.loss, st.similarity, st.abs_max, st.predicted
            ));
        }
        s
    }
}

/// A plain value as JSON; these types always serialise.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

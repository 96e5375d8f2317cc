//! GAX run files: every step's heatmap and scalars, the input image, the model's identity, the
//! config and versions, in one safetensors file (readable from Python with
//! `safetensors.numpy.load_file`) written atomically.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::image::Image;
use crate::error::{Error, Result};
use crate::gax::{CompactHeatmap, GaxConfig, GaxStep, StopReason};
use crate::model::ModelInfo;

/// The format tag stored in every run file.
pub const FORMAT: &str = "heatmap-explorer-run/1";

/// Who made a run: enough to tell models apart without loading one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModelIdentity {
    /// Architecture name.
    pub arch: String,
    /// SHA-256 of the weights.
    pub hash: String,
    /// Where the weights came from.
    pub source: String,
    /// Class labels.
    pub labels: Vec<String>,
    /// Normalisation name.
    pub normalize: String,
}

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

/// The scalars of one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepScalars {
    /// CO of the step's heatmap.
    pub co: f32,
    /// Loss.
    pub loss: f32,
    /// Similarity term.
    pub similarity: f32,
    /// max |h|.
    pub abs_max: f32,
    /// Predicted class on x'.
    pub predicted: i64,
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
        self.heatmaps.push(s.heatmap.into_three_channels());
    }

    /// Writes the run to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        super::write_atomic(path, &self.to_bytes()?)
    }

    /// Serialises the run.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let t = self.steps.len();
        let (h, w) = (self.image.height, self.image.width);
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
            ("heatmaps", TensorView::new(Dtype::F16, vec![t, 3, h, w], &heat).map_err(err)?),
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
        Self::from_bytes(&bytes).map_err(|m| Error::format(path, m))
    }

    fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a run file: {e:?}"))?;
        let (_, md) =
            SafeTensors::read_metadata(bytes).map_err(|e| format!("not a run file: {e:?}"))?;
        let meta = md.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(format!("not a run file (format tag is not {FORMAT})"));
        }
        let get = |k: &str| meta.get(k).cloned().ok_or_else(|| format!("metadata '{k}' missing"));
        let parse = |k: &str| -> std::result::Result<serde_json::Value, String> {
            serde_json::from_str(&get(k)?).map_err(|e| format!("metadata '{k}': {e}"))
        };
        let config: GaxConfig =
            serde_json::from_value(parse("config")?).map_err(|e| e.to_string())?;
        let model: ModelIdentity =
            serde_json::from_value(parse("model")?).map_err(|e| e.to_string())?;
        let stop: Option<StopReason> =
            serde_json::from_value(parse("stop")?).map_err(|e| e.to_string())?;
        let label: i64 = get("label")?.parse().map_err(|_| "bad label".to_owned())?;
        let tensor =
            |name: &str, dtype: Dtype| -> std::result::Result<(Vec<usize>, Vec<u8>), String> {
                let v = st.tensor(name).map_err(|_| format!("tensor '{name}' missing"))?;
                if v.dtype() != dtype {
                    return Err(format!("tensor '{name}' has dtype {:?}", v.dtype()));
                }
                Ok((v.shape().to_vec(), v.data().to_vec()))
            };
        let f32v = |b: &[u8]| {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect::<Vec<_>>()
        };
        let (ishape, ibytes) = tensor("image", Dtype::F32)?;
        let [3, h, w] = ishape[..] else { return Err("image must be [3, H, W]".to_owned()) };
        let image = Image { width: w, height: h, data: f32v(&ibytes) };
        let (hshape, hbytes) = tensor("heatmaps", Dtype::F16)?;
        let t = *hshape.first().ok_or("heatmaps has no shape")?;
        if hshape != [t, 3, h, w] {
            return Err(format!("heatmaps shape {hshape:?} does not match the image"));
        }
        let per = 3 * h * w;
        let heatmaps = hbytes
            .chunks_exact(2 * per.max(1))
            .map(|c| CompactHeatmap {
                height: h,
                width: w,
                data: c.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]])).collect(),
            })
            .collect::<Vec<_>>();
        let scalar = |name: &str| -> std::result::Result<Vec<f32>, String> {
            let (s, b) = tensor(name, Dtype::F32)?;
            if s != [t] {
                return Err(format!("tensor '{name}' has shape {s:?}, expected [{t}]"));
            }
            Ok(f32v(&b))
        };
        let (co, loss, sim, amax) =
            (scalar("co")?, scalar("loss")?, scalar("similarity")?, scalar("abs_max")?);
        let (ps, pb) = tensor("predicted", Dtype::I64)?;
        if ps != [t] {
            return Err("predicted has the wrong shape".to_owned());
        }
        let pred: Vec<i64> = pb
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
        let steps = (0..t)
            .map(|i| StepScalars {
                co: co[i],
                loss: loss[i],
                similarity: sim[i],
                abs_max: amax[i],
                predicted: pred[i],
            })
            .collect();
        Ok(Self {
            config,
            image,
            image_name: get("image_name")?,
            label,
            model,
            steps,
            heatmaps,
            stop,
        })
    }

    /// The step stack `[T, 3, H, W]` as float32 `.npy`.
    pub fn export_npy(&self, path: &Path) -> Result<()> {
        let data: Vec<f32> = self.heatmaps.iter().flat_map(CompactHeatmap::to_f32).collect();
        super::npy::write_f32(
            path,
            &[self.heatmaps.len(), 3, self.image.height, self.image.width],
            &data,
        )
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

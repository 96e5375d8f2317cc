//! GAX run files as bytes: the safetensors header, the JSON metadata and the tensors' binary
//! data, checked against each other. The main crate turns the parts into its run record.

use std::collections::HashMap;

use half::f16;
use safetensors::tensor::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

/// Why bytes are not a readable run file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RunFileError {
    /// Not a safetensors file, or a corrupt one.
    #[error("not a run file: {0}")]
    NotSafetensors(String),
    /// A safetensors file without this program's format tag.
    #[error("not a run file (format tag is not {FORMAT})")]
    FormatTag,
    /// A metadata entry is missing.
    #[error("metadata '{0}' missing")]
    MissingMetadata(String),
    /// A metadata entry is not JSON.
    #[error("metadata '{key}': {message}")]
    MetadataJson {
        /// The entry.
        key: String,
        /// The JSON error.
        message: String,
    },
    /// A metadata entry is JSON of the wrong shape.
    #[error("{0}")]
    MetadataValue(String),
    /// The label is not an integer.
    #[error("bad label")]
    Label,
    /// A tensor is missing.
    #[error("tensor '{0}' missing")]
    MissingTensor(String),
    /// A tensor has the wrong element type.
    #[error("tensor '{name}' has dtype {dtype}")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its element type.
        dtype: String,
    },
    /// The image tensor is not `[3, H, W]` with H, W ≥ 1.
    #[error("image must be [3, H, W]")]
    ImageShape,
    /// The heatmaps tensor has no dimensions.
    #[error("heatmaps has no shape")]
    HeatmapsNoShape,
    /// The heatmaps tensor is not `[T, C, H, W]` with C = 3, or 1 for a 1-channel model.
    #[error("heatmaps shape {0:?} does not match the image")]
    HeatmapsShape(Vec<usize>),
    /// A per-step scalar tensor is not `[T]`.
    #[error("tensor '{name}' has shape {shape:?}, expected [{steps}]")]
    ScalarShape {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// Steps.
        steps: usize,
    },
    /// The predicted-class tensor is not `[T]`.
    #[error("predicted has the wrong shape")]
    PredictedShape,
}

/// A run file's contents, checked: `heatmaps` and `steps` have one entry per step.
#[derive(Debug, Clone, PartialEq)]
pub struct RunParts<C, S> {
    /// The GAX hyper-parameters.
    pub config: C,
    /// The model.
    pub model: ModelIdentity,
    /// Why the run ended.
    pub stop: Option<S>,
    /// The label GAX maximised.
    pub label: i64,
    /// The image's file name.
    pub image_name: String,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// `3 · height · width` image values, channel-major.
    pub image: Vec<f32>,
    /// The heatmaps' channels: 3, or 1 for a 1-channel model's run.
    pub channels: usize,
    /// One `channels · height · width` heatmap per step.
    pub heatmaps: Vec<Vec<f16>>,
    /// Per-step scalars, step 0 first.
    pub steps: Vec<StepScalars>,
}

type Tensor = (Vec<usize>, Vec<u8>);

/// Parses a run file's bytes; `C` is the config's type and `S` the stop reason's.
pub fn parse<C: DeserializeOwned, S: DeserializeOwned>(
    bytes: &[u8],
) -> Result<RunParts<C, S>, RunFileError> {
    let not_run = |e: safetensors::SafeTensorError| RunFileError::NotSafetensors(format!("{e:?}"));
    let st = SafeTensors::deserialize(bytes).map_err(not_run)?;
    let (_, md) = SafeTensors::read_metadata(bytes).map_err(not_run)?;
    let meta: HashMap<String, String> = md.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(RunFileError::FormatTag);
    }
    let get =
        |k: &str| meta.get(k).cloned().ok_or_else(|| RunFileError::MissingMetadata(k.to_owned()));
    let parse = |k: &str| -> Result<serde_json::Value, RunFileError> {
        serde_json::from_str(&get(k)?)
            .map_err(|e| RunFileError::MetadataJson { key: k.to_owned(), message: e.to_string() })
    };
    let value = |e: serde_json::Error| RunFileError::MetadataValue(e.to_string());
    let config: C = serde_json::from_value(parse("config")?).map_err(value)?;
    let model: ModelIdentity = serde_json::from_value(parse("model")?).map_err(value)?;
    let stop: Option<S> = serde_json::from_value(parse("stop")?).map_err(value)?;
    let label: i64 = get("label")?.parse().map_err(|_| RunFileError::Label)?;
    let tensor = |name: &str, dtype: Dtype| -> Result<Tensor, RunFileError> {
        let v = st.tensor(name).map_err(|_| RunFileError::MissingTensor(name.to_owned()))?;
        if v.dtype() != dtype {
            let dtype = format!("{:?}", v.dtype());
            return Err(RunFileError::Dtype { name: name.to_owned(), dtype });
        }
        Ok((v.shape().to_vec(), v.data().to_vec()))
    };
    let (ishape, ibytes) = tensor("image", Dtype::F32)?;
    let [3, height, width] = ishape[..] else { return Err(RunFileError::ImageShape) };
    if height == 0 || width == 0 {
        // No pixels: the heatmaps could not be told apart (and the run file was not written
        // by this program).
        return Err(RunFileError::ImageShape);
    }
    let image = f32s(&ibytes);
    let (hshape, hbytes) = tensor("heatmaps", Dtype::F16)?;
    let t = *hshape.first().ok_or(RunFileError::HeatmapsNoShape)?;
    let channels = match hshape[..] {
        [_, c @ (1 | 3), h, w] if (h, w) == (height, width) => c,
        _ => return Err(RunFileError::HeatmapsShape(hshape)),
    };
    let per = channels * height * width;
    let heatmaps = hbytes
        .chunks_exact(2 * per)
        .map(|c| c.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]])).collect())
        .collect::<Vec<_>>();
    let scalar = |name: &str| -> Result<Vec<f32>, RunFileError> {
        let (shape, b) = tensor(name, Dtype::F32)?;
        if shape != [t] {
            return Err(RunFileError::ScalarShape { name: name.to_owned(), shape, steps: t });
        }
        Ok(f32s(&b))
    };
    let (co, loss, sim, amax) =
        (scalar("co")?, scalar("loss")?, scalar("similarity")?, scalar("abs_max")?);
    let (ps, pb) = tensor("predicted", Dtype::I64)?;
    if ps != [t] {
        return Err(RunFileError::PredictedShape);
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
    Ok(RunParts {
        config,
        model,
        stop,
        label,
        image_name: get("image_name")?,
        height,
        width,
        image,
        channels,
        heatmaps,
        steps,
    })
}

/// Little-endian f32 values.
fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

//! Command-line arguments (SPEC §7).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ax::Variant;
use crate::error::{Error, Result};
use crate::gax::Engine;
use crate::input::LoadOptions;
use crate::model::{Arch, ModelSource, Normalize};
use crate::runtime::DeviceChoice;

/// heatmap-explorer: how heatmap explanations raise a classifier's confidence (AX, CO, GAX).
#[derive(Debug, Parser)]
#[command(name = "heatmap-explorer", version, about)]
pub struct Cli {
    /// Device: auto (CUDA when present), cpu or cuda.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// libtorch intra-op threads.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// What to do; none opens the GUI.
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Open the explorer window (the default).
    Gui(GuiArgs),
    /// Print versions, device and threads.
    Info,
    /// Print the model's top classes on an image.
    Predict(PredictArgs),
    /// Write an image (DICOM through its window) as the [0, 1] float32 .npy [H, W] the model
    /// pipeline starts from, and print its non-identifying facts as one JSON line.
    Image(ImageArgs),
    /// Write one method's attribution as a float32 .npy [C, H, W] (C = 3, or 1 for a 1-channel
    /// model).
    Attribute(AttributeArgs),
    /// AX process: CO scores of methods on an image (JSON) or a labelled folder (CSV).
    Ax(AxArgs),
    /// GAX: optimise a heatmap that raises the CO score.
    Gax(GaxArgs),
    /// Time GAX steps or attribution methods on random-weight models (for BENCHMARKS.md).
    Bench(BenchArgs),
    /// Merge `ax --data --shard` CSVs into one sorted CSV and its summary.
    Merge(MergeArgs),
    /// Fine-tune a zoo architecture with a new head (the paper's protocol); writes weights, a
    /// model card and a Table 1 report.
    Train(TrainArgs),
    /// Write a deterministic synthetic chest X-ray data set (NORMAL / PNEUMONIA phantoms and
    /// lesion masks).
    Phantom(PhantomArgs),
    /// Run `ax --data` on a cluster: job arrays of shards with a chained merge (SLURM).
    Cluster(super::cluster::ClusterArgs),
    /// The paper's two-dimensional example (Section 2): x, the closed-form GAX heatmap and the
    /// numerical ascent's against θ, as CSV.
    Toy2d(super::toy2d::Toy2dArgs),
}

/// How a model is named on the command line.
#[derive(Debug, Args, Clone, Default)]
pub struct ModelArgs {
    /// A model card JSON file.
    #[arg(long, conflicts_with_all = ["arch", "torchscript"])]
    pub model: Option<PathBuf>,
    /// A zoo architecture (resnet18, resnet34, resnet50, alexnet, squeezenet1_1,
    /// resnet34-2class, alexnet-2class, densenet121, xrv-densenet121, xrv-resnet50).
    #[arg(long, requires = "weights")]
    pub arch: Option<String>,
    /// Weights for --arch, a .safetensors file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Class count for --arch.
    #[arg(long)]
    pub classes: Option<i64>,
    /// A label file, one label per line.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Normalisation inside the model's forward (default: xrv for the xrv-* architectures,
    /// imagenet otherwise).
    #[arg(long, value_enum)]
    pub normalize: Option<Normalize>,
    /// A TorchScript module.
    #[arg(long)]
    pub torchscript: Option<PathBuf>,
}

impl ModelArgs {
    /// The model source, or None when no model was named.
    pub fn source(&self) -> Result<Option<ModelSource>> {
        let normalize = self.normalize.unwrap_or_default();
        if let Some(card) = &self.model {
            return Ok(Some(ModelSource::Card(card.clone())));
        }
        if let Some(arch) = &self.arch {
            let weights = self
                .weights
                .clone()
                .ok_or_else(|| Error::invalid("--arch needs --weights FILE.safetensors"))?;
            let arch = Arch::parse(arch)?;
            let normalize = self.normalize.unwrap_or_else(|| arch.default_normalize());
            return Ok(Some(ModelSource::Arch {
                arch,
                weights,
                classes: self.classes,
                labels: self.labels.clone(),
                normalize,
            }));
        }
        if let Some(path) = &self.torchscript {
            return Ok(Some(ModelSource::TorchScript {
                path: path.clone(),
                normalize,
                labels: self.labels.clone(),
            }));
        }
        if self.weights.is_some() {
            return Err(Error::invalid("--weights needs --arch NAME"));
        }
        Ok(None)
    }

    /// The model source, failing when none was named.
    pub fn require(&self) -> Result<ModelSource> {
        self.source()?.ok_or_else(|| {
            Error::invalid(
                "name a model: --model CARD.json, --arch NAME --weights FILE, \
                 or --torchscript FILE",
            )
        })
    }
}

/// `--window` and `--frame`: how a DICOM file becomes an image (SPEC §9).
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct DicomArgs {
    /// DICOM VOI window: file (the file's first), file:N (its preset N, from 0), auto (min to
    /// max), pP (the P-th to (100-P)-th percentile, e.g. p1) or C,W (center,width, LINEAR).
    /// Other images ignore it.
    #[arg(long, default_value = "file", value_parser = parse_window, allow_hyphen_values = true)]
    pub window: hx_formats::Window,
    /// DICOM frame, from 0.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
}

impl DicomArgs {
    /// The load options these flags select.
    pub fn options(&self) -> LoadOptions {
        LoadOptions { window: self.window, frame: self.frame }
    }
}

fn parse_window(s: &str) -> std::result::Result<hx_formats::Window, String> {
    s.parse().map_err(|e: hx_formats::DecodeError| e.to_string())
}

/// `image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The image or DICOM file.
    pub file: PathBuf,
    /// Output .npy file, float32 [H, W].
    #[arg(long)]
    pub out: PathBuf,
    /// Window and frame.
    #[command(flatten)]
    pub dicom: DicomArgs,
    /// native, or H,W to resize (torchvision's antialiased bilinear).
    #[arg(long, default_value = "native")]
    pub size: String,
}

/// `gui`.
#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// The model to open.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Images to open.
    #[arg(long)]
    pub image: Vec<PathBuf>,
    /// GAX run files to open.
    #[arg(long)]
    pub run: Vec<PathBuf>,
    /// Start GAX on the first image once the model is ready.
    #[arg(long)]
    pub gax: bool,
}

/// `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The image.
    #[arg(long)]
    pub image: PathBuf,
    /// DICOM window and frame (with --data: the same for every file).
    #[command(flatten)]
    pub dicom: DicomArgs,
    /// How many classes to print.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `attribute`.
#[derive(Debug, Args)]
pub struct AttributeArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The image.
    #[arg(long)]
    pub image: PathBuf,
    /// DICOM window and frame (with --data: the same for every file).
    #[command(flatten)]
    pub dicom: DicomArgs,
    /// Saliency, InputXGradient, LayerGradCam, Deconvolution, GuidedBackprop or DeepLift.
    #[arg(long)]
    pub method: String,
    /// Target class or pathology, by index or label (default: the highest-scoring one).
    #[arg(long)]
    pub target: Option<String>,
    /// Saliency: absolute value (Captum's default; the paper used signed).
    #[arg(long)]
    pub abs: bool,
    /// LayerGradCam: layer name (default: the first conv).
    #[arg(long)]
    pub layer: Option<String>,
    /// Output .npy file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `ax`.
#[derive(Debug, Args)]
pub struct AxArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// One image.
    #[arg(long, conflicts_with = "data")]
    pub image: Option<PathBuf>,
    /// DICOM window and frame (with --data: the same for every file).
    #[command(flatten)]
    pub dicom: DicomArgs,
    /// Ground-truth class of --image, by index or label (default: the predicted one). For a
    /// multi-label model the pathology to explain and score (default: the highest-scoring); with
    /// --data it selects the per-pathology layout PATHOLOGY/positive, PATHOLOGY/negative.
    #[arg(long, visible_alias = "target")]
    pub label: Option<String>,
    /// An image folder with one subfolder per class (or, with --target PATHOLOGY for a
    /// multi-label model, PATHOLOGY/positive and PATHOLOGY/negative, or the images a
    /// --labels-csv lists).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// With --data and --target PATHOLOGY: a CSV with a header `image,<pathology>,...` and one
    /// row per image (its path relative to --data, then 0 or 1 per pathology); the PATHOLOGY
    /// column gives the labels instead of the PATHOLOGY/positive|negative folders.
    #[arg(long, requires = "data")]
    pub labels_csv: Option<PathBuf>,
    /// Comma-separated methods, or all.
    #[arg(long, default_value = "all")]
    pub methods: String,
    /// Output file (JSON for --image, CSV for --data).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Process shard I of N (I/N, 0-based).
    #[arg(long)]
    pub shard: Option<String>,
    /// Images per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// With --data: also run GAX on every image (sum and mult, up to this many steps, target
    /// CO 48) and add `GAX` rows; 0 skips GAX.
    #[arg(long, default_value_t = 0)]
    pub gax_steps: usize,
    /// With --data: delete an existing --out CSV (and its summary and run record) and start
    /// afresh instead of resuming it.
    #[arg(long)]
    pub overwrite: bool,
}

/// `gax`.
#[derive(Debug, Args)]
pub struct GaxArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Images (several run as one batch).
    #[arg(long, required = true)]
    pub image: Vec<PathBuf>,
    /// DICOM window and frame (with --data: the same for every file).
    #[command(flatten)]
    pub dicom: DicomArgs,
    /// Label (class or pathology, by index or name) to maximise (default: the predicted class);
    /// one value for all images.
    #[arg(long, visible_alias = "target")]
    pub label: Option<String>,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// λ, the weight of the similarity term.
    #[arg(long = "lambda", default_value_t = 100.0)]
    pub lambda: f64,
    /// Stop when CO exceeds this.
    #[arg(long, default_value_t = 48.0)]
    pub target_co: f64,
    /// Stop after this many updates.
    #[arg(long, default_value_t = 500)]
    pub max_steps: usize,
    /// x + h (sum) or x ⊙ h (mult).
    #[arg(long, value_enum, default_value_t = Variant::Sum)]
    pub variant: Variant,
    /// Run file to write (with several images: one file per image, suffixed by its index).
    #[arg(long)]
    pub out: PathBuf,
    /// CSV trace to write (with several images: an `image` column is added).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Also export the step stack as .npy [T, C, H, W] (C = 3, or 1 for a 1-channel model).
    #[arg(long)]
    pub npy: Option<PathBuf>,
    /// Run even when the given label differs from the prediction.
    #[arg(long)]
    pub force: bool,
    /// How steps execute: eager, graph (one step captured as a CUDA graph on a GPU), or auto
    /// (graph on a GPU, eager on the CPU).
    #[arg(long, value_enum, default_value_t = Engine::Auto)]
    pub engine: Engine,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `phantom`.
#[derive(Debug, Args)]
pub struct PhantomArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Total number of images, divided across the splits.
    #[arg(long)]
    pub count: usize,
    /// Master seed; the same seed writes the same files.
    #[arg(long)]
    pub seed: u64,
    /// Comma-separated split folders (e.g. train,val,test); none writes the class folders directly.
    #[arg(long, value_delimiter = ',')]
    pub split: Vec<String>,
    /// Fraction of PNEUMONIA images, 0 to 1.
    #[arg(long, default_value_t = 0.5)]
    pub pneumonia_fraction: f32,
}

/// `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// `gax`, `attribute` or `dicom` (open and window --file).
    #[arg(value_parser = ["gax", "attribute", "dicom"])]
    pub what: String,
    /// `dicom`: the DICOM files to time, comma-separated.
    #[arg(long)]
    pub file: Option<String>,
    /// Architectures, comma-separated.
    #[arg(long, default_value = "resnet34,alexnet")]
    pub arch: String,
    /// Batch sizes, comma-separated.
    #[arg(long, default_value = "1")]
    pub batch: String,
    /// GAX steps (or attribution repetitions) to time.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Image side.
    #[arg(long, default_value_t = 256)]
    pub size: i64,
    /// Methods for `attribute`, comma-separated or all.
    #[arg(long, default_value = "all")]
    pub methods: String,
    /// GAX engines to time, comma-separated (auto, eager, graph).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    pub engine: Vec<Engine>,
}

/// `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged CSV to write (its summary goes beside it).
    #[arg(long)]
    pub out: PathBuf,
    /// Shard CSVs.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Architecture (e.g. squeezenet1_1, resnet34, alexnet).
    #[arg(long)]
    pub arch: String,
    /// Folder with train/ and val/ (and optionally test/) class folders.
    #[arg(long)]
    pub data: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// File name of the weights and card (without extension).
    #[arg(long, default_value = "model")]
    pub name: String,
    /// Stop once validation accuracy reaches this (after --min-iter).
    #[arg(long, default_value_t = 0.98)]
    pub target_val_acc: f64,
    /// Minimum iterations before an early stop.
    #[arg(long, default_value_t = 12)]
    pub min_iter: usize,
    /// Maximum iterations.
    #[arg(long, default_value_t = 2000)]
    pub max_iter: usize,
    /// Validate every N iterations.
    #[arg(long, default_value_t = 25)]
    pub eval_every: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: i64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
    /// Input side in pixels.
    #[arg(long, default_value_t = 256)]
    pub size: i64,
    /// Normalisation inside the model.
    #[arg(long, value_enum, default_value_t = crate::model::Normalize::Imagenet)]
    pub normalize: crate::model::Normalize,
    /// Initial weights (safetensors), loaded where names and shapes fit.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Initial bias of the new head's last layer (default: zero, as torchvision).
    #[arg(long)]
    pub head_bias: Option<f64>,
    /// Iterations of linear learning-rate warm-up from zero.
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
}

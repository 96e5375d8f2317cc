//! The model zoo: native tch networks with torchvision names, TorchScript modules, model cards
//! and the one [`Model`] type every other part of the program calls.

pub mod alexnet;
pub mod arch;
pub mod card;
pub mod ctx;
pub mod layers;
pub mod resnet;
pub mod squeezenet;
pub mod weights;

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tch::{CModule, Device, Kind, Tensor, nn};

pub use arch::Arch;
pub use card::{Labels, ModelCard};
pub use ctx::{Ctx, ReluMode};

use crate::error::{Error, Result};

/// Input normalisation applied inside the model's forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Normalize {
    /// ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
    #[default]
    Imagenet,
    /// Pixels go in as they are, in [0, 1].
    None,
}

impl Normalize {
    /// Parses `imagenet` or `none`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "imagenet" => Ok(Self::Imagenet),
            "none" => Ok(Self::None),
            _ => Err(Error::invalid(format!("unknown normalisation '{s}' (imagenet or none)"))),
        }
    }

    /// The name as written in cards and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Imagenet => "imagenet",
            Self::None => "none",
        }
    }
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSource {
    /// A model card JSON file.
    Card(PathBuf),
    /// A zoo architecture with a safetensors file.
    Arch {
        /// The architecture.
        arch: Arch,
        /// The weights.
        weights: PathBuf,
        /// Class count (default: the architecture's).
        classes: Option<i64>,
        /// A label file.
        labels: Option<PathBuf>,
        /// Normalisation inside the forward.
        normalize: Normalize,
    },
    /// A TorchScript file.
    TorchScript {
        /// The `.pt` file.
        path: PathBuf,
        /// Normalisation applied before the module.
        normalize: Normalize,
        /// A label file.
        labels: Option<PathBuf>,
    },
    /// A zoo architecture with seeded random weights (tests, benchmarks, demos without weights).
    Random {
        /// The architecture.
        arch: Arch,
        /// Class count.
        classes: i64,
        /// Normalisation.
        normalize: Normalize,
        /// Seed for libtorch's generator.
        seed: i64,
    },
}

/// What [`Model::for_training`] builds.
#[derive(Debug, Clone)]
pub struct TrainableSpec<'a> {
    /// Architecture.
    pub arch: Arch,
    /// Class count.
    pub classes: i64,
    /// One label per class.
    pub labels: Vec<String>,
    /// Normalisation inside the forward.
    pub normalize: Normalize,
    /// `[height, width]`.
    pub input_size: [i64; 2],
    /// Initial weights, loaded where names and shapes fit.
    pub init: Option<&'a Path>,
    /// Seed of the random initialisation.
    pub seed: i64,
    /// Initial value of every bias of the new head's last layer (None: zero, as torchvision).
    /// SqueezeNet's head ends in a ReLU; a small positive start keeps it from dying at once.
    pub head_bias: Option<f64>,
}

/// What a loaded model is, in plain data the UI can show.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Architecture name, or `torchscript`.
    pub arch: String,
    /// Number of classes.
    pub classes: i64,
    /// One label per class.
    pub labels: Vec<String>,
    /// Normalisation inside the forward.
    pub normalize: Normalize,
    /// `[height, width]`.
    pub input_size: [i64; 2],
    /// Where it came from (path or description).
    pub source: String,
    /// SHA-256 of the weights file (or of the seed description for random models).
    pub hash: String,
    /// Whether ReLU-rule methods and Grad-CAM are available (native models only).
    pub native: bool,
    /// The default Grad-CAM layer.
    pub default_layer: String,
}

impl ModelInfo {
    /// [`Self::input_size`] as the `[height, width]` images are decoded to.
    pub fn image_size(&self) -> [usize; 2] {
        self.input_size.map(|v| usize::try_from(v).unwrap_or(256))
    }
}

#[derive(Debug)]
enum Net {
    Res(resnet::ResNet),
    Alex(alexnet::AlexNet),
    Squeeze(squeezenet::SqueezeNet),
}

enum Backend {
    Native { _vs: nn::VarStore, net: Box<Net> },
    Script(CModule),
}

/// A classifier taking [0, 1] pixels `[N, 3, H, W]` and returning raw logits `[N, C]`.
pub struct Model {
    kind: Backend,
    mean: Option<Tensor>,
    std: Option<Tensor>,
    device: Device,
    info: ModelInfo,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("info", &self.info).field("device", &self.device).finish()
    }
}

fn build_native(arch: Arch, classes: i64, device: Device) -> (nn::VarStore, Net) {
    let vs = nn::VarStore::new(device);
    let root = vs.root();
    let net = match arch {
        Arch::Resnet18 => Net::Res(resnet::ResNet::new(
            &root,
            resnet::BlockKind::Basic,
            [2, 2, 2, 2],
            classes,
            true,
        )),
        Arch::Resnet34 => Net::Res(resnet::ResNet::new(
            &root,
            resnet::BlockKind::Basic,
            [3, 4, 6, 3],
            classes,
            true,
        )),
        Arch::Resnet50 => Net::Res(resnet::ResNet::new(
            &root,
            resnet::BlockKind::Bottleneck,
            [3, 4, 6, 3],
            classes,
            true,
        )),
        Arch::Resnet34TwoClass => Net::Res(resnet::ResNet::new(
            &root,
            resnet::BlockKind::Basic,
            [3, 4, 6, 3],
            classes,
            false,
        )),
        Arch::Alexnet => Net::Alex(alexnet::AlexNet::new(&root, classes, false)),
        Arch::AlexnetTwoClass => Net::Alex(alexnet::AlexNet::new(&root, classes, true)),
        Arch::Squeezenet1_1 => Net::Squeeze(squeezenet::SqueezeNet::new(&root, classes)),
    };
    (vs, net)
}

/// SHA-256 of a file's bytes, hex.
pub fn file_hash(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn default_labels(arch: Option<Arch>, classes: i64) -> Vec<String> {
    if classes == 2 && matches!(arch, Some(Arch::Resnet34TwoClass | Arch::AlexnetTwoClass)) {
        return vec!["NORMAL".to_owned(), "PNEUMONIA".to_owned()];
    }
    (0..classes).map(|c| format!("class {c}")).collect()
}

fn checked_labels(labels: Vec<String>, classes: i64, origin: &Path) -> Result<Vec<String>> {
    if i64::try_from(labels.len()).ok() != Some(classes) {
        return Err(Error::format(
            origin,
            format!("{} labels for a model with {classes} classes", labels.len()),
        ));
    }
    Ok(labels)
}

impl Model {
    /// Loads a model from `source` onto `device`.
    pub fn load(source: &ModelSource, device: Device) -> Result<Self> {
        match source {
            ModelSource::Card(path) => Self::load_card(path, device),
            ModelSource::Arch { arch, weights, classes, labels, normalize } => {
                let classes = Self::check_classes(*arch, *classes)?;
                let labels = match labels {
                    Some(p) => Some(checked_labels(card::read_labels(p)?, classes, p)?),
                    None => None,
                };
                Self::load_native(*arch, weights, classes, labels, *normalize, [256, 256], device)
            }
            ModelSource::TorchScript { path, normalize, labels } => {
                Self::load_script(path, *normalize, labels.as_deref(), device)
            }
            ModelSource::Random { arch, classes, normalize, seed } => {
                let classes = Self::check_classes(*arch, Some(*classes))?;
                let (vs, net) = build_native(*arch, classes, device);
                seeded_weights(&vs, *seed)?;
                let info = ModelInfo {
                    arch: arch.name().to_owned(),
                    classes,
                    labels: default_labels(Some(*arch), classes),
                    normalize: *normalize,
                    input_size: [256, 256],
                    source: format!("random {} seed {seed}", arch.name()),
                    hash: hex(&Sha256::digest(
                        format!("random:{}:{classes}:{seed}", arch.name()).as_bytes(),
                    )),
                    native: true,
                    default_layer: arch.default_layer().to_owned(),
                };
                Ok(Self::finish(
                    Backend::Native { _vs: frozen(vs), net: Box::new(net) },
                    info,
                    device,
                ))
            }
        }
    }

    fn check_classes(arch: Arch, classes: Option<i64>) -> Result<i64> {
        let c = classes.unwrap_or_else(|| arch.default_classes());
        if arch.fixed_classes() && c != 2 {
            return Err(Error::invalid(format!("{arch} always has 2 classes")));
        }
        if c < 1 {
            return Err(Error::invalid("a model needs at least one class"));
        }
        Ok(c)
    }

    fn load_card(path: &Path, device: Device) -> Result<Self> {
        let card = ModelCard::read(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let normalize = Normalize::parse(&card.normalize)?;
        let labels = match &card.labels {
            Some(Labels::List(l)) => Some(checked_labels(l.clone(), card.classes, path)?),
            Some(Labels::File(f)) => {
                Some(checked_labels(card::read_labels(&dir.join(f))?, card.classes, path)?)
            }
            None => None,
        };
        let weights = dir.join(&card.weights);
        if card.arch == "torchscript" {
            let mut m = Self::load_script(&weights, normalize, None, device)?;
            if let Some(l) = labels {
                m.info.labels = l;
                m.info.classes = card.classes;
            }
            m.info.input_size = card.input_size;
            return Ok(m);
        }
        let arch = Arch::parse(&card.arch)?;
        let classes = Self::check_classes(arch, Some(card.classes))?;
        let mut m =
            Self::load_native(arch, &weights, classes, labels, normalize, card.input_size, device)?;
        m.info.source = path.display().to_string();
        Ok(m)
    }

    fn load_native(
        arch: Arch,
        weights: &Path,
        classes: i64,
        labels: Option<Vec<String>>,
        normalize: Normalize,
        input_size: [i64; 2],
        device: Device,
    ) -> Result<Self> {
        let (vs, net) = build_native(arch, classes, device);
        weights::load_safetensors(&vs, arch, weights)?;
        let info = ModelInfo {
            arch: arch.name().to_owned(),
            classes,
            labels: labels.unwrap_or_else(|| default_labels(Some(arch), classes)),
            normalize,
            input_size,
            source: weights.display().to_string(),
            hash: file_hash(weights)?,
            native: true,
            default_layer: arch.default_layer().to_owned(),
        };
        Ok(Self::finish(Backend::Native { _vs: frozen(vs), net: Box::new(net) }, info, device))
    }

    fn load_script(
        path: &Path,
        normalize: Normalize,
        labels: Option<&Path>,
        device: Device,
    ) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            ));
        }
        let mut module = CModule::load_on_device(path, device)
            .map_err(|e| Error::format(path, e.to_string()))?;
        module.f_set_eval()?;
        let probe = Tensor::zeros([1, 3, 256, 256], (Kind::Float, device));
        let (mean, std) = norm_tensors(normalize, device);
        let x = match (&mean, &std) {
            (Some(m), Some(s)) => (&probe - m) / s,
            _ => probe,
        };
        let out = tch::no_grad(|| module.forward_ts(&[x])).map_err(|e| {
            Error::format(path, format!("forward on a 1×3×256×256 input failed: {e}"))
        })?;
        let size = out.size();
        if size.len() != 2 {
            return Err(Error::format(
                path,
                format!("the module returns shape {size:?}; logits [N, C] expected"),
            ));
        }
        let classes = size[1];
        let labels = match labels {
            Some(p) => checked_labels(card::read_labels(p)?, classes, p)?,
            None => default_labels(None, classes),
        };
        let info = ModelInfo {
            arch: "torchscript".to_owned(),
            classes,
            labels,
            normalize,
            input_size: [256, 256],
            source: path.display().to_string(),
            hash: file_hash(path)?,
            native: false,
            default_layer: String::new(),
        };
        Ok(Self::finish(Backend::Script(module), info, device))
    }

    fn finish(kind: Backend, info: ModelInfo, device: Device) -> Self {
        let (mean, std) = norm_tensors(info.normalize, device);
        Self { kind, mean, std, device, info }
    }

    /// A model whose parameters train: seeded random weights, optionally initialised from a
    /// safetensors file (tensors whose name and shape fit; the new head stays random).
    pub fn for_training(spec: TrainableSpec<'_>, device: Device) -> Result<Self> {
        let TrainableSpec { arch, classes, labels, normalize, input_size, init, seed, head_bias } =
            spec;
        let classes = Self::check_classes(arch, Some(classes))?;
        tch::manual_seed(seed);
        let (vs, net) = build_native(arch, classes, device);
        torchvision_init(&vs, arch)?;
        if let Some(value) = head_bias {
            let name = arch.head_bias().ok_or_else(|| {
                Error::invalid(format!("{} has no head bias to initialise", arch.name()))
            })?;
            tch::no_grad(|| -> Result<()> {
                for (n, mut v) in vs.variables() {
                    if n == name {
                        let _ = v.f_fill_(value)?;
                    }
                }
                Ok(())
            })?;
        }
        if let Some(p) = init {
            weights::load_matching(&vs, arch, p)?;
        }
        let info = ModelInfo {
            arch: arch.name().to_owned(),
            classes,
            labels,
            normalize,
            input_size,
            source: format!("training {} seed {seed}", arch.name()),
            hash: String::new(),
            native: true,
            default_layer: arch.default_layer().to_owned(),
        };
        Ok(Self::finish(Backend::Native { _vs: vs, net: Box::new(net) }, info, device))
    }

    /// The variable store of a native model (for optimisers and saving).
    pub fn var_store(&self) -> Option<&nn::VarStore> {
        match &self.kind {
            Backend::Native { _vs, .. } => Some(_vs),
            Backend::Script(_) => None,
        }
    }

    /// What this model is.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The device the model lives on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Whether the ReLU-rule methods and Grad-CAM can run (native models only).
    pub fn is_native(&self) -> bool {
        matches!(self.kind, Backend::Native { .. })
    }

    /// Logits for [0, 1] pixels, with the given per-forward context.
    pub fn forward_ctx(&self, x: &Tensor, ctx: &mut Ctx) -> Result<Tensor> {
        let xn = match (&self.mean, &self.std) {
            (Some(m), Some(s)) => (x - m) / s,
            _ => x.shallow_clone(),
        };
        match &self.kind {
            Backend::Native { net, .. } => Ok(match net.as_ref() {
                Net::Res(n) => n.forward(&xn, ctx),
                Net::Alex(n) => n.forward(&xn, ctx),
                Net::Squeeze(n) => n.forward(&xn, ctx),
            }),
            Backend::Script(m) => {
                if !matches!(ctx.relu, ReluMode::Plain) || ctx.tap.is_some() {
                    return Err(Error::invalid(
                        "a TorchScript module is opaque: its ReLU calls and layers cannot be \
                         reached, so only Saliency, InputXGradient, AX and GAX run on it",
                    ));
                }
                Ok(m.forward_ts(&[xn])?)
            }
        }
    }

    /// Logits for [0, 1] pixels with plain ReLUs.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_ctx(x, &mut Ctx::plain())
    }

    /// The names of every tappable layer, in forward order (empty for TorchScript).
    pub fn layer_names(&self) -> Result<Vec<String>> {
        if !self.is_native() {
            return Ok(Vec::new());
        }
        let mut ctx = Ctx { seen_layers: Some(Vec::new()), ..Ctx::default() };
        let [h, w] = self.info.input_size;
        let x = Tensor::zeros([1, 3, h, w], (Kind::Float, self.device));
        let _logits = tch::no_grad(|| self.forward_ctx(&x, &mut ctx))?;
        Ok(ctx.seen_layers.unwrap_or_default())
    }

    /// Checks that `x` is a float batch `[N, 3, H, W]` on which this model can run.
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let s = x.size();
        if s.len() != 4 || s[1] != 3 {
            return Err(Error::invalid(format!("expected an image batch [N, 3, H, W], got {s:?}")));
        }
        if s[0] < 1 {
            return Err(Error::invalid("empty batch"));
        }
        let min = if self.info.arch.starts_with("alexnet") { 63 } else { 32 };
        if s[2] < min || s[3] < min {
            return Err(Error::invalid(format!(
                "image {}×{} is too small for {} (at least {min}×{min})",
                s[3], s[2], self.info.arch
            )));
        }
        Ok(())
    }
}

fn norm_tensors(normalize: Normalize, device: Device) -> (Option<Tensor>, Option<Tensor>) {
    match normalize {
        Normalize::Imagenet => (
            Some(
                Tensor::from_slice(&[0.485_f32, 0.456, 0.406]).view([1, 3, 1, 1]).to_device(device),
            ),
            Some(
                Tensor::from_slice(&[0.229_f32, 0.224, 0.225]).view([1, 3, 1, 1]).to_device(device),
            ),
        ),
        Normalize::None => (None, None),
    }
}

/// torchvision's initialisation where it differs from tch's defaults: SqueezeNet's final conv
/// is N(0, 0.01) (a wider start tends to leave every final ReLU dead, so training never moves).
fn torchvision_init(vs: &nn::VarStore, arch: Arch) -> Result<()> {
    if arch != Arch::Squeezenet1_1 {
        return Ok(());
    }
    tch::no_grad(|| -> Result<()> {
        for (name, mut v) in vs.variables() {
            if name == "classifier.1.weight" {
                v.f_copy_(&(v.f_randn_like()? * 0.01))?;
            }
        }
        Ok(())
    })
}

fn frozen(mut vs: nn::VarStore) -> nn::VarStore {
    vs.freeze();
    vs
}

/// Seeded random weights from a private generator, so a random model is the same whatever
/// else uses libtorch's global generator meanwhile (tests run in parallel threads). Weights are
/// Kaiming-uniform (bound √(6 / fan_in)), biases zero, and BatchNorm gets non-trivial running
/// statistics so it is not an identity.
fn seeded_weights(vs: &nn::VarStore, seed: i64) -> Result<()> {
    let mut state = u64::from_ne_bytes(seed.to_ne_bytes()) ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // SplitMix64.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // The top 24 bits as a fraction in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let u = ((z ^ (z >> 31)) >> 40) as f32 / 16_777_216.0;
        u
    };
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    tch::no_grad(|| -> Result<()> {
        for (name, mut v) in vars {
            let size = v.size();
            let n: i64 = size.iter().product();
            let count = usize::try_from(n).unwrap_or(0);
            let values: Vec<f32> = if name.ends_with("running_mean") {
                (0..count).map(|_| (next() - 0.5) * 0.2).collect()
            } else if name.ends_with("running_var") {
                (0..count).map(|_| next() * 0.5 + 0.75).collect()
            } else if size.len() > 1 {
                let fan_in: i64 = size[1..].iter().product();
                #[allow(clippy::cast_precision_loss)]
                let bound = (6.0 / fan_in.max(1) as f32).sqrt();
                (0..count).map(|_| (2.0 * next() - 1.0) * bound).collect()
            } else if name.contains("bn") || name.contains("downsample.1") {
                // BatchNorm scale and shift.
                if name.ends_with("weight") {
                    (0..count).map(|_| 0.9 + 0.2 * next()).collect()
                } else {
                    (0..count).map(|_| (next() - 0.5) * 0.2).collect()
                }
            } else {
                vec![0.0; count]
            };
            v.f_copy_(&Tensor::from_slice(&values).view(size.as_slice()).to_device(v.device()))?;
        }
        Ok(())
    })
}

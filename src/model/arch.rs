//! The architecture names of the model zoo and what each one implies.

use crate::error::{Error, Result};

/// A zoo architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// torchvision `resnet18`.
    Resnet18,
    /// torchvision `resnet34`.
    Resnet34,
    /// torchvision `resnet50`.
    Resnet50,
    /// torchvision `alexnet`.
    Alexnet,
    /// torchvision `squeezenet1_1`.
    Squeezenet1_1,
    /// The paper's ResNet34 trunk with a bias-free `fc = Linear(512, 2)`.
    Resnet34TwoClass,
    /// The paper's AlexNet trunk with a bias-free `fc = Linear(4096, 2)`.
    AlexnetTwoClass,
    /// torchvision `densenet121` (CheXNet's layout), 1 or 3 input channels.
    Densenet121,
    /// torchxrayvision's DenseNet121: 1 channel, 18 pathologies, 224 px, `xrv` scaling.
    XrvDensenet121,
    /// torchxrayvision's ResNet50: 1 channel, 18 pathologies, 512 px, `xrv` scaling; its
    /// weights carry a `model.` prefix.
    XrvResnet50,
}

/// The 18 pathologies of torchxrayvision's `all` models, in their output order.
pub const XRV_PATHOLOGIES: [&str; 18] = [
    "Atelectasis",
    "Consolidation",
    "Infiltration",
    "Pneumothorax",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Effusion",
    "Pneumonia",
    "Pleural_Thickening",
    "Cardiomegaly",
    "Nodule",
    "Mass",
    "Hernia",
    "Lung Lesion",
    "Fracture",
    "Lung Opacity",
    "Enlarged Cardiomediastinum",
];

impl Arch {
    /// Every architecture, in the order the UI lists them.
    pub const ALL: [Self; 10] = [
        Self::Resnet18,
        Self::Resnet34,
        Self::Resnet50,
        Self::Alexnet,
        Self::Squeezenet1_1,
        Self::Resnet34TwoClass,
        Self::AlexnetTwoClass,
        Self::Densenet121,
        Self::XrvDensenet121,
        Self::XrvResnet50,
    ];

    /// The command-line and model-card name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Resnet18 => "resnet18",
            Self::Resnet34 => "resnet34",
            Self::Resnet50 => "resnet50",
            Self::Alexnet => "alexnet",
            Self::Squeezenet1_1 => "squeezenet1_1",
            Self::Resnet34TwoClass => "resnet34-2class",
            Self::AlexnetTwoClass => "alexnet-2class",
            Self::Densenet121 => "densenet121",
            Self::XrvDensenet121 => "xrv-densenet121",
            Self::XrvResnet50 => "xrv-resnet50",
        }
    }

    /// Parses a name as written by [`Arch::name`].
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
            Error::invalid(format!("unknown architecture '{name}'; known: {}", names.join(", ")))
        })
    }

    /// The class count when none is given.
    pub fn default_classes(self) -> i64 {
        self.fixed_classes().unwrap_or(1000)
    }

    /// The class count the architecture fixes, if it does.
    pub fn fixed_classes(self) -> Option<i64> {
        match self {
            Self::Resnet34TwoClass | Self::AlexnetTwoClass => Some(2),
            Self::XrvDensenet121 | Self::XrvResnet50 => Some(18),
            _ => None,
        }
    }

    /// Whether the architecture is one of torchxrayvision's (1 channel, multi-label, `xrv`).
    pub fn is_xrv(self) -> bool {
        matches!(self, Self::XrvDensenet121 | Self::XrvResnet50)
    }

    /// The normalisation when none is given: `xrv` for torchxrayvision's models, else ImageNet.
    pub fn default_normalize(self) -> super::Normalize {
        if self.is_xrv() { super::Normalize::Xrv } else { super::Normalize::Imagenet }
    }

    /// Input channels when the weights do not say (torchxrayvision's models take 1).
    pub fn default_channels(self) -> i64 {
        if self.is_xrv() { 1 } else { 3 }
    }

    /// Whether the input channel count follows the weights (ResNets and DenseNets; AlexNet and
    /// SqueezeNet always take 3).
    pub fn variable_channels(self) -> bool {
        !matches!(self, Self::Alexnet | Self::AlexnetTwoClass | Self::Squeezenet1_1)
    }

    /// `[height, width]` when no card says: 224 and 512 px for torchxrayvision's models, 256
    /// otherwise.
    pub fn default_input_size(self) -> [i64; 2] {
        match self {
            Self::XrvDensenet121 => [224, 224],
            Self::XrvResnet50 => [512, 512],
            _ => [256, 256],
        }
    }

    /// The first convolution's weight (its input channels are the model's).
    pub fn first_conv(self) -> &'static str {
        match self.default_layer() {
            "conv1" => "conv1.weight",
            "features.0" => "features.0.weight",
            _ => "features.conv0.weight",
        }
    }

    /// The default Grad-CAM layer: the first conv, as the paper used.
    pub fn default_layer(self) -> &'static str {
        match self {
            Self::Resnet18
            | Self::Resnet34
            | Self::Resnet50
            | Self::Resnet34TwoClass
            | Self::XrvResnet50 => "conv1",
            Self::Alexnet | Self::AlexnetTwoClass | Self::Squeezenet1_1 => "features.0",
            Self::Densenet121 | Self::XrvDensenet121 => "features.conv0",
        }
    }

    /// The bias of the classification head's last layer, if it has one.
    pub fn head_bias(self) -> Option<&'static str> {
        match self {
            Self::Resnet18 | Self::Resnet34 | Self::Resnet50 | Self::XrvResnet50 => Some("fc.bias"),
            Self::Alexnet => Some("classifier.6.bias"),
            Self::Squeezenet1_1 => Some("classifier.1.bias"),
            Self::Densenet121 | Self::XrvDensenet121 => Some("classifier.bias"),
            Self::Resnet34TwoClass | Self::AlexnetTwoClass => None,
        }
    }

    /// Maps a tensor name from a weights file to this model's parameter name, or `None` when the
    /// tensor is known to be unused (the paper checkpoints' old heads and `iter` counter,
    /// BatchNorm's `num_batches_tracked`, torchxrayvision's `op_threshs`).
    pub fn map_weight_name(self, name: &str) -> Option<String> {
        if name == "iter" || name == "op_threshs" || name.ends_with("num_batches_tracked") {
            return None;
        }
        if self == Self::XrvResnet50 {
            return Some(name.strip_prefix("model.").unwrap_or(name).to_owned());
        }
        let (stripped, prefixed) = match name.strip_prefix("backbone.") {
            Some(rest) => (rest, true),
            None => (name, false),
        };
        match self {
            Self::Resnet34TwoClass if prefixed && stripped.starts_with("fc.") => None,
            Self::AlexnetTwoClass if stripped.starts_with("classifier.6.") => None,
            _ => Some(stripped.to_owned()),
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Arch::ALL {
            assert_eq!(Arch::parse(a.name()).ok(), Some(a));
        }
        assert!(Arch::parse("vgg16").is_err());
    }

    #[test]
    fn paper_names_map() {
        let a = Arch::Resnet34TwoClass;
        assert_eq!(
            a.map_weight_name("backbone.layer1.0.conv1.weight").as_deref(),
            Some("layer1.0.conv1.weight")
        );
        assert_eq!(a.map_weight_name("backbone.fc.weight"), None);
        assert_eq!(a.map_weight_name("fc.weight").as_deref(), Some("fc.weight"));
        assert_eq!(a.map_weight_name("iter"), None);
        assert_eq!(Arch::AlexnetTwoClass.map_weight_name("backbone.classifier.6.bias"), None);
        assert_eq!(Arch::Resnet34.map_weight_name("bn1.num_batches_tracked"), None);
        let x = Arch::XrvResnet50;
        assert_eq!(x.map_weight_name("model.conv1.weight").as_deref(), Some("conv1.weight"));
        assert_eq!(x.map_weight_name("op_threshs"), None);
        assert_eq!(Arch::XrvDensenet121.map_weight_name("op_threshs"), None);
    }

    #[test]
    fn radiology_defaults() {
        assert_eq!(Arch::Densenet121.default_layer(), "features.conv0");
        assert_eq!(Arch::Densenet121.first_conv(), "features.conv0.weight");
        assert_eq!(Arch::XrvResnet50.first_conv(), "conv1.weight");
        assert_eq!(Arch::Squeezenet1_1.first_conv(), "features.0.weight");
        assert_eq!(Arch::XrvDensenet121.default_classes(), 18);
        assert_eq!(Arch::XrvDensenet121.default_channels(), 1);
        assert_eq!(Arch::Densenet121.default_channels(), 3);
        assert_eq!(Arch::XrvResnet50.default_input_size(), [512, 512]);
        assert_eq!(XRV_PATHOLOGIES.len(), 18);
    }
}

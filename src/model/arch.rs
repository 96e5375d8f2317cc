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
}

impl Arch {
    /// Every architecture, in the order the UI lists them.
    pub const ALL: [Self; 7] = [
        Self::Resnet18,
        Self::Resnet34,
        Self::Resnet50,
        Self::Alexnet,
        Self::Squeezenet1_1,
        Self::Resnet34TwoClass,
        Self::AlexnetTwoClass,
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
        match self {
            Self::Resnet34TwoClass | Self::AlexnetTwoClass => 2,
            _ => 1000,
        }
    }

    /// Whether the class count is fixed by the architecture.
    pub fn fixed_classes(self) -> bool {
        matches!(self, Self::Resnet34TwoClass | Self::AlexnetTwoClass)
    }

    /// The default Grad-CAM layer: the first conv, as the paper used.
    pub fn default_layer(self) -> &'static str {
        match self {
            Self::Resnet18 | Self::Resnet34 | Self::Resnet50 | Self::Resnet34TwoClass => "conv1",
            Self::Alexnet | Self::AlexnetTwoClass | Self::Squeezenet1_1 => "features.0",
        }
    }

    /// The bias of the classification head's last layer, if it has one.
    pub fn head_bias(self) -> Option<&'static str> {
        match self {
            Self::Resnet18 | Self::Resnet34 | Self::Resnet50 => Some("fc.bias"),
            Self::Alexnet => Some("classifier.6.bias"),
            Self::Squeezenet1_1 => Some("classifier.1.bias"),
            Self::Resnet34TwoClass | Self::AlexnetTwoClass => None,
        }
    }

    /// Maps a tensor name from a weights file to this model's parameter name, or `None` when the
    /// tensor is known to be unused (the paper checkpoints' old heads and `iter` counter,
    /// BatchNorm's `num_batches_tracked`).
    pub fn map_weight_name(self, name: &str) -> Option<String> {
        if name == "iter" || name.ends_with("num_batches_tracked") {
            return None;
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
    }
}

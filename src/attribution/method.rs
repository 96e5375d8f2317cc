//! The six attribution method names and their options.

use crate::error::{Error, Result};

/// One of the six Captum methods the paper compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// ∂f_t/∂x (signed by default, as the paper ran it).
    Saliency,
    /// x ⊙ ∂f_t/∂x.
    InputXGradient,
    /// Grad-CAM at a layer, signed, upsampled bilinearly and copied to 3 channels.
    LayerGradCam,
    /// Gradient with every ReLU backward replaced by max(g, 0).
    Deconvolution,
    /// Gradient with every ReLU backward replaced by max(g, 0)·1[z > 0].
    GuidedBackprop,
    /// (x − b)·M with DeepLift's Rescale rule at every ReLU call.
    DeepLift,
}

impl Method {
    /// All six, in the paper's order.
    pub const ALL: [Self; 6] = [
        Self::Saliency,
        Self::InputXGradient,
        Self::LayerGradCam,
        Self::Deconvolution,
        Self::GuidedBackprop,
        Self::DeepLift,
    ];

    /// The exact Captum class name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Saliency => "Saliency",
            Self::InputXGradient => "InputXGradient",
            Self::LayerGradCam => "LayerGradCam",
            Self::Deconvolution => "Deconvolution",
            Self::GuidedBackprop => "GuidedBackprop",
            Self::DeepLift => "DeepLift",
        }
    }

    /// Parses one exact method name.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            Error::invalid(format!(
                "unknown method '{name}'; known: Saliency InputXGradient LayerGradCam \
                 Deconvolution GuidedBackprop DeepLift"
            ))
        })
    }

    /// Parses a comma-separated list, or `all` for all six.
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        if list.trim() == "all" {
            return Ok(Self::ALL.to_vec());
        }
        let mut out = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let m = Self::parse(part)?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err(Error::invalid("no method named"));
        }
        Ok(out)
    }

    /// Whether the method needs a native model (ReLU rules or a layer tap).
    pub fn needs_native(self) -> bool {
        !matches!(self, Self::Saliency | Self::InputXGradient)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Options that some methods read.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Saliency only: take the absolute value (Captum's default; the paper used signed).
    pub abs: bool,
    /// LayerGradCam only: the layer (default: the model's first conv).
    pub layer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_lists() {
        assert_eq!(Method::parse_list("all").ok(), Some(Method::ALL.to_vec()));
        assert_eq!(
            Method::parse_list("DeepLift, Saliency,DeepLift").ok(),
            Some(vec![Method::DeepLift, Method::Saliency])
        );
        assert!(Method::parse_list("saliency").is_err());
        assert!(Method::parse_list(" , ").is_err());
    }
}

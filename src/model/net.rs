//! The native networks behind one enum: built for an architecture and class count, and run
//! with a forward context.

use tch::{Device, Tensor, nn};

use super::densenet::DenseNet;
use super::resnet::{BlockKind, ResNet};
use super::{Arch, Ctx, alexnet::AlexNet, squeezenet::SqueezeNet};

/// A native network of the zoo.
#[derive(Debug)]
pub(super) enum Net {
    Res(ResNet),
    Alex(AlexNet),
    Squeeze(SqueezeNet),
    Dense(DenseNet),
}

impl Net {
    /// A fresh network of `arch` with `channels` inputs (ignored where the architecture fixes 3)
    /// and `classes` outputs, its parameters in a new variable store on `device` (tch's default
    /// initialisation).
    pub(super) fn build(
        arch: Arch,
        channels: i64,
        classes: i64,
        device: Device,
    ) -> (nn::VarStore, Self) {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let io = (channels, classes);
        let resnet =
            |kind, layers, fc_bias| Self::Res(ResNet::new(&root, kind, layers, io, fc_bias));
        let net = match arch {
            Arch::Resnet18 => resnet(BlockKind::Basic, [2, 2, 2, 2], true),
            Arch::Resnet34 => resnet(BlockKind::Basic, [3, 4, 6, 3], true),
            Arch::Resnet50 | Arch::XrvResnet50 => resnet(BlockKind::Bottleneck, [3, 4, 6, 3], true),
            Arch::Resnet34TwoClass => resnet(BlockKind::Basic, [3, 4, 6, 3], false),
            Arch::Alexnet => Self::Alex(AlexNet::new(&root, classes, false)),
            Arch::AlexnetTwoClass => Self::Alex(AlexNet::new(&root, classes, true)),
            Arch::Squeezenet1_1 => Self::Squeeze(SqueezeNet::new(&root, classes)),
            Arch::Densenet121 | Arch::XrvDensenet121 => {
                Self::Dense(DenseNet::new(&root, channels, classes))
            }
        };
        (vs, net)
    }

    /// Logits for normalised input `x`.
    pub(super) fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        match self {
            Self::Res(n) => n.forward(x, ctx),
            Self::Alex(n) => n.forward(x, ctx),
            Self::Squeeze(n) => n.forward(x, ctx),
            Self::Dense(n) => n.forward(x, ctx),
        }
    }
}

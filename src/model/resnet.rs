//! ResNet18/34/50 with torchvision parameter names, plus the paper's two-class ResNet34 head.
//!
//! Every ReLU call goes through [`Ctx::relu`] (the BasicBlock's two calls are separate points)
//! and every conv, block and stage output is offered to [`Ctx::tap`] under its torchvision name.

use tch::{Tensor, nn};

use super::ctx::Ctx;
use super::layers::{Bn, Conv, Linear};

#[derive(Debug)]
struct Downsample {
    conv: Conv,
    bn: Bn,
}

#[derive(Debug)]
struct Block {
    name: String,
    convs: Vec<(Conv, Bn)>,
    downsample: Option<Downsample>,
}

impl Block {
    fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let last = self.convs.len() - 1;
        let mut out = x.shallow_clone();
        for (i, (conv, bn)) in self.convs.iter().enumerate() {
            let c = ctx.tap(&format!("{}.conv{}", self.name, i + 1), conv.forward(&out));
            out = bn.forward(&c, ctx.train);
            if i < last {
                out = ctx.relu(&out);
            }
        }
        let identity = match &self.downsample {
            Some(d) => d.bn.forward(&d.conv.forward(x), ctx.train),
            None => x.shallow_clone(),
        };
        let out = ctx.relu(&(out + identity));
        ctx.tap(&self.name, out)
    }
}

/// Which residual block a ResNet uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Two 3×3 convs (ResNet18/34).
    Basic,
    /// 1×1, 3×3, 1×1 with expansion 4 (ResNet50).
    Bottleneck,
}

/// A torchvision-layout ResNet.
#[derive(Debug)]
pub struct ResNet {
    conv1: Conv,
    bn1: Bn,
    stages: Vec<Vec<Block>>,
    fc: Linear,
}

impl ResNet {
    /// Builds the network under `root` for `channels` input channels (torchxrayvision's
    /// ResNet50 takes 1); `fc_bias` is false for the paper's two-class head.
    pub fn new(
        root: &nn::Path<'_>,
        kind: BlockKind,
        layers: [usize; 4],
        (channels, classes): (i64, i64),
        fc_bias: bool,
    ) -> Self {
        let conv1 = Conv::new(&(root / "conv1"), channels, 64, 7, 2, 3, false);
        let bn1 = Bn::new(&(root / "bn1"), 64);
        let expansion = if kind == BlockKind::Basic { 1 } else { 4 };
        let mut inplanes = 64;
        let mut stages = Vec::new();
        for (si, (&n, planes)) in layers.iter().zip([64_i64, 128, 256, 512]).enumerate() {
            let stride = if si == 0 { 1 } else { 2 };
            let stage_name = format!("layer{}", si + 1);
            let stage_path = root / stage_name.as_str();
            let mut blocks = Vec::new();
            for bi in 0..n {
                let p = &stage_path / bi;
                let s = if bi == 0 { stride } else { 1 };
                let name = format!("{stage_name}.{bi}");
                let convs = match kind {
                    BlockKind::Basic => vec![
                        (
                            Conv::new(&(&p / "conv1"), inplanes, planes, 3, s, 1, false),
                            Bn::new(&(&p / "bn1"), planes),
                        ),
                        (
                            Conv::new(&(&p / "conv2"), planes, planes, 3, 1, 1, false),
                            Bn::new(&(&p / "bn2"), planes),
                        ),
                    ],
                    BlockKind::Bottleneck => vec![
                        (
                            Conv::new(&(&p / "conv1"), inplanes, planes, 1, 1, 0, false),
                            Bn::new(&(&p / "bn1"), planes),
                        ),
                        (
                            Conv::new(&(&p / "conv2"), planes, planes, 3, s, 1, false),
                            Bn::new(&(&p / "bn2"), planes),
                        ),
                        (
                            Conv::new(&(&p / "conv3"), planes, planes * 4, 1, 1, 0, false),
                            Bn::new(&(&p / "bn3"), planes * 4),
                        ),
                    ],
                };
                let out_planes = planes * expansion;
                let downsample = (bi == 0 && (s != 1 || inplanes != out_planes)).then(|| {
                    let d = &p / "downsample";
                    Downsample {
                        conv: Conv::new(&(&d / 0), inplanes, out_planes, 1, s, 0, false),
                        bn: Bn::new(&(&d / 1), out_planes),
                    }
                });
                inplanes = out_planes;
                blocks.push(Block { name, convs, downsample });
            }
            stages.push(blocks);
        }
        let fc = Linear::new(&(root / "fc"), 512 * expansion, classes, fc_bias);
        Self { conv1, bn1, stages, fc }
    }

    /// Logits for a normalised batch `[N, channels, H, W]`.
    pub fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let c1 = ctx.tap("conv1", self.conv1.forward(x));
        let b1 = ctx.tap("bn1", self.bn1.forward(&c1, ctx.train));
        let r = ctx.relu(&b1);
        let mut out = ctx.tap("maxpool", r.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false));
        for (si, stage) in self.stages.iter().enumerate() {
            for block in stage {
                out = block.forward(&out, ctx);
            }
            out = ctx.tap(&format!("layer{}", si + 1), out);
        }
        let pooled = ctx.tap("avgpool", out.adaptive_avg_pool2d([1, 1])).flatten(1, -1);
        self.fc.forward(&pooled)
    }
}

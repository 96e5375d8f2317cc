//! DenseNet121 with torchvision parameter names (`features.conv0`, `features.denseblockK.
//! denselayerJ.{norm1,conv1,norm2,conv2}`, `features.transitionK.{norm,conv}`, `features.norm5`,
//! `classifier`), 1 or 3 input channels. torchxrayvision's DenseNet and CheXNet use this layout.
//!
//! Every ReLU call goes through [`Ctx::relu`], the final functional `F.relu` included (SPEC
//! §10), and every conv, block, transition and norm output is offered to [`Ctx::tap`] under its
//! torchvision name.

use tch::{Tensor, nn};

use super::ctx::Ctx;
use super::layers::{Bn, Conv, Linear};

/// Growth rate k of DenseNet121.
const GROWTH: i64 = 32;
/// Bottleneck width factor: each layer's 1×1 conv has `BN_SIZE · GROWTH` outputs.
const BN_SIZE: i64 = 4;
/// Layers per dense block of DenseNet121.
const BLOCKS: [usize; 4] = [6, 12, 24, 16];
/// Output channels of `features.conv0`.
const INIT_FEATURES: i64 = 64;

/// `norm1 → relu1 → conv1 (1×1) → norm2 → relu2 → conv2 (3×3)`; returns the new features.
#[derive(Debug)]
struct DenseLayer {
    name: String,
    norm1: Bn,
    conv1: Conv,
    norm2: Bn,
    conv2: Conv,
}

impl DenseLayer {
    fn new(p: &nn::Path<'_>, name: String, cin: i64) -> Self {
        let mid = BN_SIZE * GROWTH;
        Self {
            name,
            norm1: Bn::new(&(p / "norm1"), cin),
            conv1: Conv::new(&(p / "conv1"), cin, mid, 1, 1, 0, false),
            norm2: Bn::new(&(p / "norm2"), mid),
            conv2: Conv::new(&(p / "conv2"), mid, GROWTH, 3, 1, 1, false),
        }
    }

    fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let r = ctx.relu(&self.norm1.forward(x, ctx.train));
        let c = ctx.tap(&format!("{}.conv1", self.name), self.conv1.forward(&r));
        let r = ctx.relu(&self.norm2.forward(&c, ctx.train));
        let c = ctx.tap(&format!("{}.conv2", self.name), self.conv2.forward(&r));
        ctx.tap(&self.name, c)
    }
}

/// `norm → relu → conv (1×1, halving the channels) → pool (2×2 average)`.
#[derive(Debug)]
struct Transition {
    name: String,
    norm: Bn,
    conv: Conv,
}

impl Transition {
    fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let r = ctx.relu(&self.norm.forward(x, ctx.train));
        let c = ctx.tap(&format!("{}.conv", self.name), self.conv.forward(&r));
        let pooled = c.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>);
        ctx.tap(&self.name, pooled)
    }
}

/// torchvision's `densenet121` (growth 32, blocks 6-12-24-16, no dropout).
#[derive(Debug)]
pub struct DenseNet {
    conv0: Conv,
    norm0: Bn,
    /// Each block's name and layers, and the transition after it (none after the last).
    blocks: Vec<(String, Vec<DenseLayer>, Option<Transition>)>,
    norm5: Bn,
    classifier: Linear,
}

impl DenseNet {
    /// Builds DenseNet121 under `root` for `channels` input channels and `classes` outputs.
    pub fn new(root: &nn::Path<'_>, channels: i64, classes: i64) -> Self {
        let f = root / "features";
        let conv0 = Conv::new(&(&f / "conv0"), channels, INIT_FEATURES, 7, 2, 3, false);
        let norm0 = Bn::new(&(&f / "norm0"), INIT_FEATURES);
        let mut width = INIT_FEATURES;
        let mut blocks = Vec::new();
        for (bi, &n) in BLOCKS.iter().enumerate() {
            let block = format!("features.denseblock{}", bi + 1);
            let bp = &f / format!("denseblock{}", bi + 1).as_str();
            let layers = (0..n)
                .map(|li| {
                    let lname = format!("denselayer{}", li + 1);
                    let cin = width + crate::convert::to_i64(li) * GROWTH;
                    DenseLayer::new(&(&bp / lname.as_str()), format!("{block}.{lname}"), cin)
                })
                .collect();
            width += crate::convert::to_i64(n) * GROWTH;
            let transition = (bi + 1 < BLOCKS.len()).then(|| {
                let tname = format!("transition{}", bi + 1);
                let tp = &f / tname.as_str();
                let t = Transition {
                    name: format!("features.{tname}"),
                    norm: Bn::new(&(&tp / "norm"), width),
                    conv: Conv::new(&(&tp / "conv"), width, width / 2, 1, 1, 0, false),
                };
                width /= 2;
                t
            });
            blocks.push((block, layers, transition));
        }
        let norm5 = Bn::new(&(&f / "norm5"), width);
        let classifier = Linear::new(&(root / "classifier"), width, classes, true);
        Self { conv0, norm0, blocks, norm5, classifier }
    }

    /// Logits for a normalised batch `[N, channels, H, W]`.
    pub fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let c = ctx.tap("features.conv0", self.conv0.forward(x));
        let n = ctx.tap("features.norm0", self.norm0.forward(&c, ctx.train));
        let r = ctx.relu(&n);
        let mut out =
            ctx.tap("features.pool0", r.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false));
        for (name, layers, transition) in &self.blocks {
            // torchvision concatenates every earlier output before each layer; the values are
            // the same as appending one layer's output at a time.
            // Each feature map is read by every later layer of the block: `share` keeps Guided
            // Backprop's and Deconvolution's segment backward linear in the block's depth.
            let mut features = vec![ctx.share(out)];
            for layer in layers {
                let input = Tensor::cat(&features, 1);
                let new = layer.forward(&input, ctx);
                features.push(ctx.share(new));
            }
            out = ctx.tap(name, Tensor::cat(&features, 1));
            if let Some(t) = transition {
                out = t.forward(&out, ctx);
            }
        }
        let n5 = ctx.tap("features.norm5", self.norm5.forward(&out, ctx.train));
        // The functional `F.relu(features)` of torchvision's forward, its own ReLU call.
        let r = ctx.relu(&n5);
        let pooled = r.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        self.classifier.forward(&pooled)
    }
}

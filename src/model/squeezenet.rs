//! SqueezeNet 1.1 with torchvision parameter names (the small demo architecture).

use tch::{Tensor, nn};

use super::ctx::Ctx;
use super::layers::Conv;

#[derive(Debug)]
struct Fire {
    name: String,
    squeeze: Conv,
    expand1x1: Conv,
    expand3x3: Conv,
}

impl Fire {
    fn new(p: &nn::Path<'_>, name: String, cin: i64, sq: i64, e1: i64, e3: i64) -> Self {
        Self {
            name,
            squeeze: Conv::new(&(p / "squeeze"), cin, sq, 1, 1, 0, true),
            expand1x1: Conv::new(&(p / "expand1x1"), sq, e1, 1, 1, 0, true),
            expand3x3: Conv::new(&(p / "expand3x3"), sq, e3, 3, 1, 1, true),
        }
    }

    fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let s = ctx.tap(&format!("{}.squeeze", self.name), self.squeeze.forward(x));
        let s = ctx.relu(&s);
        let a = ctx.tap(&format!("{}.expand1x1", self.name), self.expand1x1.forward(&s));
        let a = ctx.relu(&a);
        let b = ctx.tap(&format!("{}.expand3x3", self.name), self.expand3x3.forward(&s));
        let b = ctx.relu(&b);
        ctx.tap(&self.name, Tensor::cat(&[a, b], 1))
    }
}

/// torchvision's `squeezenet1_1`.
#[derive(Debug)]
pub struct SqueezeNet {
    conv0: Conv,
    fires: Vec<(usize, Fire)>,
    classifier: Conv,
}

impl SqueezeNet {
    /// Builds the network under `root`.
    pub fn new(root: &nn::Path<'_>, classes: i64) -> Self {
        let f = root / "features";
        let conv0 = Conv::new(&(&f / 0), 3, 64, 3, 2, 0, true);
        let spec = [
            (3, 64, 16, 64, 64),
            (4, 128, 16, 64, 64),
            (6, 128, 32, 128, 128),
            (7, 256, 32, 128, 128),
            (9, 256, 48, 192, 192),
            (10, 384, 48, 192, 192),
            (11, 384, 64, 256, 256),
            (12, 512, 64, 256, 256),
        ];
        let fires = spec
            .iter()
            .map(|&(i, cin, sq, e1, e3)| {
                (i, Fire::new(&(&f / i), format!("features.{i}"), cin, sq, e1, e3))
            })
            .collect();
        let classifier = Conv::new(&(root / "classifier" / 1), 512, classes, 1, 1, 0, true);
        Self { conv0, fires, classifier }
    }

    /// Logits for a normalised batch `[N, 3, H, W]`.
    pub fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let c = ctx.tap("features.0", self.conv0.forward(x));
        let r = ctx.relu(&c);
        let mut out = ctx.tap("features.1", r);
        out = ctx.tap("features.2", out.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], true));
        for (i, fire) in &self.fires {
            out = fire.forward(&out, ctx);
            if matches!(i, 4 | 7) {
                out = ctx.tap(
                    &format!("features.{}", i + 1),
                    out.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], true),
                );
            }
        }
        let c = ctx.tap("classifier.1", self.classifier.forward(&out.dropout(0.5, ctx.train)));
        let r = ctx.relu(&c);
        r.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }
}

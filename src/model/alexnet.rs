//! AlexNet with torchvision parameter names, plus the paper's two-class head.

use tch::{Tensor, nn};

use super::ctx::Ctx;
use super::layers::{Conv, Linear};

/// A torchvision-layout AlexNet. With `two_class_head`, classifier[6] is replaced by the
/// paper's bias-free `fc = Linear(4096, classes)`.
#[derive(Debug)]
pub struct AlexNet {
    convs: Vec<(usize, Conv)>,
    fc1: Linear,
    fc2: Linear,
    head: Linear,
}

impl AlexNet {
    /// Builds the network under `root`.
    pub fn new(root: &nn::Path<'_>, classes: i64, two_class_head: bool) -> Self {
        let f = root / "features";
        let spec = [
            (0, 3, 64, 11, 4, 2),
            (3, 64, 192, 5, 1, 2),
            (6, 192, 384, 3, 1, 1),
            (8, 384, 256, 3, 1, 1),
            (10, 256, 256, 3, 1, 1),
        ];
        let convs = spec
            .iter()
            .map(|&(i, cin, cout, k, s, p)| (i, Conv::new(&(&f / i), cin, cout, k, s, p, true)))
            .collect();
        let c = root / "classifier";
        let fc1 = Linear::new(&(&c / 1), 256 * 6 * 6, 4096, true);
        let fc2 = Linear::new(&(&c / 4), 4096, 4096, true);
        let head = if two_class_head {
            Linear::new(&(root / "fc"), 4096, classes, false)
        } else {
            Linear::new(&(&c / 6), 4096, classes, true)
        };
        Self { convs, fc1, fc2, head }
    }

    /// Logits for a normalised batch `[N, 3, H, W]`.
    pub fn forward(&self, x: &Tensor, ctx: &mut Ctx) -> Tensor {
        let mut out = x.shallow_clone();
        for (i, conv) in &self.convs {
            out = ctx.tap(&format!("features.{i}"), conv.forward(&out));
            let r = ctx.relu(&out);
            out = ctx.tap(&format!("features.{}", i + 1), r);
            if matches!(i, 0 | 3 | 10) {
                let pool = if *i == 10 { 12 } else { i + 2 };
                out = ctx.tap(
                    &format!("features.{pool}"),
                    out.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], false),
                );
            }
        }
        let pooled = ctx.tap("avgpool", out.adaptive_avg_pool2d([6, 6])).flatten(1, -1);
        let h = ctx.relu(&self.fc1.forward(&pooled.dropout(0.5, ctx.train)));
        let h = ctx.relu(&self.fc2.forward(&h.dropout(0.5, ctx.train)));
        self.head.forward(&h)
    }
}

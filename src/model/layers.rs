//! Building blocks with torchvision parameter names: conv, batch norm, linear.

use tch::{Tensor, nn};

/// A 2-D convolution (`weight`, optional `bias`).
#[derive(Debug)]
pub struct Conv {
    inner: nn::Conv2D,
}

impl Conv {
    /// A convolution at `path` with a square kernel.
    pub fn new(
        path: &nn::Path<'_>,
        cin: i64,
        cout: i64,
        k: i64,
        stride: i64,
        padding: i64,
        bias: bool,
    ) -> Self {
        let cfg = nn::ConvConfig { stride, padding, bias, ..Default::default() };
        Self { inner: nn::conv2d(path, cin, cout, k, cfg) }
    }

    /// Applies the convolution.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.apply(&self.inner)
    }
}

/// Batch normalisation in eval mode (running statistics).
#[derive(Debug)]
pub struct Bn {
    inner: nn::BatchNorm,
}

impl Bn {
    /// A batch norm at `path` over `c` channels.
    pub fn new(path: &nn::Path<'_>, c: i64) -> Self {
        Self { inner: nn::batch_norm2d(path, c, Default::default()) }
    }

    /// Applies batch norm: running statistics, or batch statistics when `train`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        x.apply_t(&self.inner, train)
    }
}

/// A fully connected layer (`weight`, optional `bias`).
#[derive(Debug)]
pub struct Linear {
    ws: Tensor,
    bs: Option<Tensor>,
}

impl Linear {
    /// A linear layer at `path`.
    pub fn new(path: &nn::Path<'_>, din: i64, dout: i64, bias: bool) -> Self {
        let l = nn::linear(path, din, dout, nn::LinearConfig { bias, ..Default::default() });
        Self { ws: l.ws, bs: l.bs }
    }

    /// Applies `x Wᵀ + b` the way torch's `F.linear` does.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.ws, self.bs.as_ref())
    }
}

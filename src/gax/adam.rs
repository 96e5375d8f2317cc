//! Adam exactly as `torch.optim.Adam` (single-tensor path, no weight decay, no amsgrad), with
//! its step count kept on the device (as `capturable=True` does) so that one update can be
//! captured in a CUDA graph and replayed.

use tch::{Kind, Tensor};

/// Adam state for one parameter tensor.
#[derive(Debug)]
pub struct Adam {
    /// The learning rate as a 0-dim float64 tensor on the parameter's device.
    lr: Tensor,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// Updates applied so far: a 0-dim float64 tensor on the parameter's device.
    step: Tensor,
    m: Tensor,
    v: Tensor,
}

impl Adam {
    /// State for a parameter shaped like `like`.
    pub fn new(like: &Tensor, lr: f64) -> Self {
        Self {
            lr: Tensor::full([], lr, (Kind::Double, like.device())),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: Tensor::zeros([], (Kind::Double, like.device())),
            m: like.zeros_like(),
            v: like.zeros_like(),
        }
    }

    /// Applies one update to `param` (a detached tensor) with gradient `grad`, in place and
    /// without reading anything back to the host.
    pub fn update(&mut self, param: &mut Tensor, grad: &Tensor) {
        let _ = self.step.g_add_scalar_(1.0);
        let _ = self.m.lerp_(grad, 1.0 - self.beta1);
        let _ = self.v.g_mul_scalar_(self.beta2);
        let _ = self.v.addcmul_(grad, &(grad * (1.0 - self.beta2)));
        // 1 − β^t in float64, as the host-side bias corrections of the reference are.
        let bc1 = Tensor::pow_scalar(self.beta1, &self.step).g_mul_scalar(-1.0).g_add_scalar(1.0);
        let bc2 = Tensor::pow_scalar(self.beta2, &self.step).g_mul_scalar(-1.0).g_add_scalar(1.0);
        let denom = self.v.sqrt() / bc2.sqrt() + self.eps;
        // The reference's `param.addcdiv_(m, denom, value=-lr / bc1)` rounds as
        // `param + (value · m) / denom` with value in float: the same operations in the same
        // order keep W and b bit-identical to it (`param − (m / denom) · step` drifts by an ulp
        // from the second update on, which in flat images flips max-pool ties).
        let neg_step = (&self.lr / bc1).neg();
        let _ = param.g_add_(&(&self.m * neg_step / denom));
    }

    /// Keeps only the rows `idx` of the state (for images that are still running).
    pub fn select_rows(&mut self, idx: &Tensor) {
        self.m = self.m.index_select(0, idx);
        self.v = self.v.index_select(0, idx);
    }

    /// A copy of the state (step count and moments).
    pub fn snapshot(&self) -> [Tensor; 3] {
        [self.step.copy(), self.m.copy(), self.v.copy()]
    }

    /// Writes a [`Self::snapshot`] back in place (the buffers keep their addresses, which a
    /// captured CUDA graph relies on).
    pub fn restore(&mut self, saved: &[Tensor; 3]) -> tch::Result<()> {
        self.step.f_copy_(&saved[0])?;
        self.m.f_copy_(&saved[1])?;
        self.v.f_copy_(&saved[2])
    }
}

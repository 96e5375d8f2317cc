//! Adam exactly as `torch.optim.Adam` (single-tensor path, no weight decay, no amsgrad).

use tch::Tensor;

/// Adam state for one parameter tensor.
#[derive(Debug)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    step: i32,
    m: Tensor,
    v: Tensor,
}

impl Adam {
    /// State for a parameter shaped like `like`.
    pub fn new(like: &Tensor, lr: f64) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 0, m: like.zeros_like(), v: like.zeros_like() }
    }

    /// Applies one update to `param` (a detached tensor) with gradient `grad`.
    pub fn update(&mut self, param: &mut Tensor, grad: &Tensor) {
        self.step += 1;
        let _ = self.m.lerp_(grad, 1.0 - self.beta1);
        let _ = self.v.g_mul_scalar_(self.beta2);
        let _ = self.v.addcmul_(grad, &(grad * (1.0 - self.beta2)));
        let bc1 = 1.0 - self.beta1.powi(self.step);
        let bc2 = 1.0 - self.beta2.powi(self.step);
        let step_size = self.lr / bc1;
        let denom = self.v.sqrt() / bc2.sqrt() + self.eps;
        let _ = param.g_sub_(&(&self.m / denom * step_size));
    }

    /// Keeps only the rows `idx` of the state (for images that are still running).
    pub fn select_rows(&mut self, idx: &Tensor) {
        self.m = self.m.index_select(0, idx);
        self.v = self.v.index_select(0, idx);
    }
}

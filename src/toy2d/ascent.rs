//! The numerical side of the 2-D example: k steps of plain gradient ascent on Δ with rate
//! η = kη / k, the gradient taken by libtorch's autograd through the classifier
//! `f(x) = σ(W⁻¹x)` (float64 on the CPU, every θ in one batch).

use tch::{Device, Kind, Tensor};

use super::Activation;
use crate::error::{Error, Result};

fn activate(z: &Tensor, sigma: Activation) -> Result<Tensor> {
    Ok(match sigma {
        Activation::Identity => z.shallow_clone(),
        Activation::LeakyRelu => z.f_leaky_relu()?,
        Activation::Sigmoid => z.f_sigmoid()?,
    })
}

/// The heatmap `h = w ⊙ x` at each θ after `steps` ascent steps on
/// `Δ = Σ_c κ_c (σ(W⁻¹(x + h))_c − σ(W⁻¹x)_c)`, κ = (1, −1), from `w = (1, 1)`.
///
/// `W` is the rotation by θ, `x = W a`, and `W⁻¹` is computed by `linalg.inv`, not assumed to
/// be the transpose. Δ is summed over θ before the backward pass; each θ has its own `w`, so
/// every `w` receives exactly its own gradient.
pub fn ascend(
    theta: &[f64],
    a: [f64; 2],
    k_eta: f64,
    steps: usize,
    sigma: Activation,
) -> Result<Vec<[f64; 2]>> {
    if steps == 0 {
        return Err(Error::invalid("steps must be at least 1"));
    }
    let n = i64::try_from(theta.len()).map_err(|_| Error::invalid("too many θ samples"))?;
    let th = Tensor::f_from_slice(theta)?;
    let (c, s) = (th.f_cos()?, th.f_sin()?);
    let rows = [Tensor::f_stack(&[&c, &s.f_neg()?], 1)?, Tensor::f_stack(&[&s, &c], 1)?];
    let w = Tensor::f_stack(&rows, 1)?; // [n, 2, 2]
    let w_inv = Tensor::f_linalg_inv(&w)?;
    let x = w.f_matmul(&Tensor::f_from_slice(&a)?.f_view([1, 2, 1])?)?; // [n, 2, 1]
    let kappa = Tensor::f_from_slice(&[1.0_f64, -1.0])?;
    let before = activate(&w_inv.f_matmul(&x)?.f_squeeze_dim(-1)?, sigma)?;
    let eta = k_eta / crate::convert::to_f64(steps);

    let mut weights = Tensor::f_ones([n, 2, 1], (Kind::Double, Device::Cpu))?;
    for _ in 0..steps {
        let leaf = weights.set_requires_grad(true);
        let h = leaf.f_mul(&x)?;
        let after = activate(&w_inv.f_matmul(&x.f_add(&h)?)?.f_squeeze_dim(-1)?, sigma)?;
        let delta = after.f_sub(&before)?.f_mul(&kappa)?.f_sum(Kind::Double)?;
        let grad = Tensor::f_run_backward(&[&delta], &[&leaf], false, false)?
            .pop()
            .ok_or_else(|| Error::invalid("autograd returned no gradient"))?;
        weights = leaf.f_detach()?.f_add(&grad.f_mul_scalar(eta)?)?;
    }
    let h = Vec::<f64>::try_from(weights.f_mul(&x)?.f_contiguous()?.f_view([-1])?)?;
    Ok(h.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;

    use super::super::{Params, closed};
    use super::*;

    /// The first check: for σ = identity, k autograd steps of rate kη/k land on the
    /// closed form (eq. 3–4) for several a₁, θ, kη and k.
    #[test]
    fn numeric_ascent_equals_the_closed_form() {
        let theta: Vec<f64> = Params { samples: 37, ..Params::default() }.thetas();
        let mut worst = 0.0_f64;
        for a1 in [0.95, 0.7, 0.55, 0.5, 0.2] {
            for (k_eta, steps) in [(1.2, 1), (1.2, 7), (1.44, 3), (0.3, 25), (-0.8, 4)] {
                let a = [a1, 1.0 - a1];
                let numeric =
                    ascend(&theta, a, k_eta, steps, Activation::Identity).expect("ascent");
                assert_eq!(numeric.len(), theta.len());
                for (&t, n) in theta.iter().zip(&numeric) {
                    let h = closed::heatmap(&closed::rotation(t), a, k_eta);
                    let d = (h[0] - n[0]).abs().max((h[1] - n[1]).abs());
                    assert!(d <= 1e-6, "a₁ {a1} θ {t} kη {k_eta} k {steps}: {h:?} vs {n:?}");
                    worst = worst.max(d);
                }
            }
        }
        assert!(worst < 1e-12, "float64 agreement: {worst}");
    }

    /// With a sigmoid the ascent is no longer linear in w: the heatmap leaves the closed form,
    /// still raises Δ, and more steps of the same total kη move it further from one big step.
    #[test]
    fn a_sigmoid_bends_the_ascent_away_from_the_closed_form() {
        let theta = [0.0, 0.5, PI / 3.0];
        let a = [0.95, 0.05];
        let one = ascend(&theta, a, 1.2, 1, Activation::Sigmoid).expect("one step");
        let many = ascend(&theta, a, 1.2, 30, Activation::Sigmoid).expect("30 steps");
        for (i, &t) in theta.iter().enumerate() {
            let w = closed::rotation(t);
            let x = closed::data_point(&w, a);
            let closed_h = closed::heatmap(&w, a, 1.2);
            assert!((closed_h[0] - many[i][0]).abs() > 1e-3, "θ {t}: {closed_h:?} {:?}", many[i]);
            let start = closed::co_score(&w, x, x, Activation::Sigmoid);
            let co = closed::co_score(&w, x, many[i], Activation::Sigmoid);
            assert!(co > start, "θ {t}: the ascent raises Δ ({start} → {co})");
            assert!((one[i][0] - many[i][0]).abs() > 1e-6, "θ {t}: steps matter off the identity");
        }
    }

    #[test]
    fn zero_steps_are_refused() {
        assert!(ascend(&[0.0], [0.9, 0.1], 1.2, 0, Activation::Identity).is_err());
    }
}

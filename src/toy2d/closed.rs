//! The paper's closed form (its eq. 3–4) and the CO score of the 2-D example, in plain f64.
//!
//! Conventions (the paper's and its plotting code's): `W` is the rotation by θ,
//! `W = [[cos θ, −sin θ], [sin θ, cos θ]]`; the class scores are `a = (a₁, a₂)`; the data point
//! is `x = W a` (so `x₁ = a₁W₁₁ + a₂W₁₂`, `x₂ = a₁W₂₁ + a₂W₂₂`); the classifier is
//! `f(x) = σ(W⁻¹x)`, perfect because `f(x) = σ(a)`. Class 1 is the label (κ = (1, −1)).

use super::Activation;

/// A 2×2 matrix, row-major: `m[row][column]`.
pub type Mat2 = [[f64; 2]; 2];

/// The rotation by `theta` (counter-clockwise): the paper's `W`.
pub fn rotation(theta: f64) -> Mat2 {
    let (s, c) = theta.sin_cos();
    [[c, -s], [s, c]]
}

/// The inverse of `m` (for a rotation, its transpose up to rounding).
pub fn inverse(m: &Mat2) -> Mat2 {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    [[m[1][1] / det, -m[0][1] / det], [-m[1][0] / det, m[0][0] / det]]
}

/// `m v`.
pub fn apply(m: &Mat2, v: [f64; 2]) -> [f64; 2] {
    [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]]
}

/// The data point `x = W a`.
pub fn data_point(w: &Mat2, a: [f64; 2]) -> [f64; 2] {
    apply(w, a)
}

/// The paper's eq. 4, `∇_wΔ` for σ = identity:
/// `((W⁻¹₁₁ − W⁻¹₂₁)(a₁W₁₁ + a₂W₁₂), −(W⁻¹₂₂ − W⁻¹₁₂)(a₁W₂₁ + a₂W₂₂))`.
///
/// With σ = identity, `Δ = A − B = [W⁻¹h]₁ − [W⁻¹h]₂` and `h = w ⊙ x`, so `Δ` is linear in `w`
/// and this gradient does not depend on `w`. For the rotation it is
/// `((cos θ + sin θ) x₁, (sin θ − cos θ) x₂)`.
pub fn gradient(w: &Mat2, a: [f64; 2]) -> [f64; 2] {
    let wi = inverse(w);
    let x = data_point(w, a);
    [(wi[0][0] - wi[1][0]) * x[0], -(wi[1][1] - wi[0][1]) * x[1]]
}

/// The paper's eq. 3: the heatmap after gradient ascent on `Δ` from `w = (1, 1)` with total
/// step `kη` (k steps of rate η): `h = [1 + kη ∇_wΔ] ⊙ x`.
pub fn heatmap(w: &Mat2, a: [f64; 2], k_eta: f64) -> [f64; 2] {
    let x = data_point(w, a);
    let g = gradient(w, a);
    [(1.0 + k_eta * g[0]) * x[0], (1.0 + k_eta * g[1]) * x[1]]
}

/// The CO score of heatmap `h` on `x` with the AX sum `x + h`, class 1 as the label:
/// `Σ_c κ_c (σ(W⁻¹(x + h))_c − σ(W⁻¹x)_c)` with κ = (1, −1). With σ = identity it equals `Δ`.
pub fn co_score(w: &Mat2, x: [f64; 2], h: [f64; 2], sigma: Activation) -> f64 {
    let wi = inverse(w);
    let before = apply(&wi, x).map(|z| sigma.apply(z));
    let after = apply(&wi, [x[0] + h[0], x[1] + h[1]]).map(|z| sigma.apply(z));
    (after[0] - before[0]) - (after[1] - before[1])
}

#[cfg(test)]
mod tests {
    use std::f64::consts::{FRAC_PI_4, PI};

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn the_classifier_recovers_a_and_the_gradient_is_the_rotation_form() {
        for theta in [-PI, -2.0, -FRAC_PI_4, 0.0, 0.3, FRAC_PI_4, 2.5] {
            let w = rotation(theta);
            let a = [0.7, 0.3];
            let back = apply(&inverse(&w), data_point(&w, a));
            assert!(close(back[0], a[0], 1e-12) && close(back[1], a[1], 1e-12), "{back:?}");
            let (s, c) = theta.sin_cos();
            let x = data_point(&w, a);
            let g = gradient(&w, a);
            assert!(close(g[0], (c + s) * x[0], 1e-12), "θ {theta}: {g:?}");
            assert!(close(g[1], (s - c) * x[1], 1e-12), "θ {theta}: {g:?}");
        }
    }

    /// For σ = identity the CO score is Δ itself, which is linear in w: one step of size kη
    /// along eq. 4 raises it by exactly kη |∇Δ|².
    #[test]
    fn ascent_raises_co_by_k_eta_times_the_squared_gradient() {
        let w = rotation(0.4);
        let a = [0.95, 0.05];
        let x = data_point(&w, a);
        let g = gradient(&w, a);
        let co0 = co_score(&w, x, x, Activation::Identity);
        let co1 = co_score(&w, x, heatmap(&w, a, 1.2), Activation::Identity);
        assert!(close(co1 - co0, 1.2 * (g[0] * g[0] + g[1] * g[1]), 1e-12), "{co0} {co1}");
    }

    #[test]
    fn leaky_relu_and_sigmoid_change_the_score_but_keep_its_sign_here() {
        let w = rotation(0.0);
        let a = [0.95, 0.05];
        let x = data_point(&w, a);
        let h = heatmap(&w, a, 1.2);
        let id = co_score(&w, x, h, Activation::Identity);
        let leaky = co_score(&w, x, h, Activation::LeakyRelu);
        let sig = co_score(&w, x, h, Activation::Sigmoid);
        // Here W⁻¹(x + h) is positive, so LeakyReLU is the identity; the sigmoid squashes.
        assert!(close(id, leaky, 1e-12), "{id} {leaky}");
        assert!(sig > 0.0 && sig < id, "{sig} {id}");
    }
}

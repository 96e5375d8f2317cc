//! The six heatmap methods with Captum 0.9.0's numbers, computed without hooks.
//!
//! Saliency and InputXGradient are plain input gradients. Guided Backprop and Deconvolution cut
//! the graph at every ReLU call and apply their rule to the incoming gradient segment by
//! segment ([`tape`]). DeepLift runs `cat([x, b])` with a Rescale surrogate at every ReLU call.
//! LayerGradCam captures the layer output as a leaf and differentiates with respect to it.

pub mod method;
pub mod tape;

use tch::{Kind, Tensor};

pub use method::{Method, Options};

use crate::error::{Error, Result};
use crate::model::{Ctx, Model, ReluMode};

/// The sum over the batch of each row's target logit.
fn selected_sum(logits: &Tensor, targets: &Tensor) -> Tensor {
    logits.gather(1, &targets.view([-1, 1]), false).sum(Kind::Float)
}

/// Predicted classes (argmax of the logits) for a batch of [0, 1] pixels.
pub fn predict(model: &Model, x: &Tensor) -> Result<Vec<i64>> {
    let logits = tch::no_grad(|| model.forward(x))?;
    crate::model::check_finite(&logits, || "the logits (the model's output)".to_owned())?;
    Ok(Vec::<i64>::try_from(logits.argmax(1, false))?)
}

/// The gradient of Σ_n f_{t_n}(x_n) with respect to x.
fn input_gradient(model: &Model, x: &Tensor, targets: &Tensor, relu: ReluMode) -> Result<Tensor> {
    let x = x.detach().set_requires_grad(true);
    let mut ctx = Ctx::with_relu(relu);
    let logits = model.forward_ctx(&x, &mut ctx)?;
    let root = selected_sum(&logits, targets);
    match ctx.relu {
        ReluMode::Tape(t) => tape::backward(&root, t, &x),
        _ => {
            let g = Tensor::f_run_backward(&[&root], &[&x], false, false)?;
            g.into_iter().next().ok_or(Error::invalid("no gradient"))
        }
    }
}

/// Attributions `[N, C, H, W]` (C = the model's channels) of `method` for the batch `x` (pixels in [0, 1]) and one target
/// class per image (`None`: each image's predicted class).
pub fn attribute(
    model: &Model,
    x: &Tensor,
    targets: Option<&[i64]>,
    method: Method,
    opts: &Options,
) -> Result<Tensor> {
    model.check_input(x)?;
    crate::io::fault::out_of_memory(crate::io::fault::Site::Attribution)?;
    let n = x.size()[0];
    let targets = match targets {
        Some(t) => {
            if i64::try_from(t.len()).ok() != Some(n) {
                return Err(Error::invalid(format!("{} targets for {n} images", t.len())));
            }
            if let Some(bad) = t.iter().find(|&&c| c < 0 || c >= model.info().classes) {
                return Err(Error::invalid(format!(
                    "target class {bad} is outside 0..{}",
                    model.info().classes
                )));
            }
            t.to_vec()
        }
        None => predict(model, x)?,
    };
    if method.needs_native() && !model.is_native() {
        return Err(Error::invalid(format!(
            "{method} needs a native model: a TorchScript module's ReLU calls and layers cannot be \
             reached; load the weights with --arch/--weights or a model card instead"
        )));
    }
    let t = Tensor::from_slice(&targets).to_device(model.device());
    let x = x.to_kind(Kind::Float);
    let out = match method {
        Method::Saliency => {
            let g = input_gradient(model, &x, &t, ReluMode::Plain)?;
            if opts.abs { g.abs() } else { g }
        }
        Method::InputXGradient => &x * input_gradient(model, &x, &t, ReluMode::Plain)?,
        Method::GuidedBackprop => {
            input_gradient(model, &x, &t, ReluMode::Tape(tape::Tape::guided()))?
        }
        Method::Deconvolution => {
            input_gradient(model, &x, &t, ReluMode::Tape(tape::Tape::deconvolution()))?
        }
        Method::DeepLift => deeplift(model, &x, &t)?,
        Method::LayerGradCam => {
            let layer = opts.layer.clone().unwrap_or_else(|| model.info().default_layer.clone());
            grad_cam(model, &x, &t, &layer)?
        }
    };
    crate::model::check_finite(&out, || format!("the {method} attribution"))?;
    Ok(out.detach())
}

/// DeepLift with a zero (black) baseline: (x − 0)·M, Rescale at every ReLU call.
fn deeplift(model: &Model, x: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let baseline = x.zeros_like();
    let xl = x.detach().set_requires_grad(true);
    let both = Tensor::cat(&[&xl, &baseline], 0);
    let mut ctx = Ctx::with_relu(ReluMode::DeepLift);
    let logits = model.forward_ctx(&both, &mut ctx)?;
    let t2 = Tensor::cat(&[targets, targets], 0);
    let root = selected_sum(&logits, &t2);
    let g = Tensor::f_run_backward(&[&root], &[&xl], false, false)?;
    let g = g.into_iter().next().ok_or(Error::invalid("no gradient"))?;
    Ok((x - baseline) * g)
}

/// Signed Grad-CAM at `layer`, bilinearly upsampled (align_corners = false) and copied to the
/// input's channels.
fn grad_cam(model: &Model, x: &Tensor, targets: &Tensor, layer: &str) -> Result<Tensor> {
    let mut ctx = Ctx::tapping(layer);
    let logits = model.forward_ctx(x, &mut ctx)?;
    let tap = ctx.tap.take().ok_or(Error::invalid("no tap"))?;
    let (Some(a), Some(leaf)) = (tap.activation, tap.leaf) else {
        let names = model.layer_names()?;
        return Err(Error::invalid(format!(
            "layer '{layer}' not found; layers: {}",
            names.join(", ")
        )));
    };
    if a.dim() != 4 {
        return Err(Error::invalid(format!(
            "layer '{layer}' output has shape {:?}; Grad-CAM needs a 4-D feature map",
            a.size()
        )));
    }
    let root = selected_sum(&logits, targets);
    let g = Tensor::f_run_backward(&[&root], &[&leaf], false, false)?;
    let g = g.into_iter().next().ok_or(Error::invalid("no gradient"))?;
    let w = g.mean_dim([2_i64, 3].as_slice(), true, Kind::Float);
    let cam = (w * &a).sum_dim_intlist([1_i64].as_slice(), true, Kind::Float);
    let size = x.size();
    let up = cam.upsample_bilinear2d([size[2], size[3]], false, None, None);
    Ok(up.expand([size[0], size[1], size[2], size[3]], false).contiguous())
}

//! The AX process and the CO score (SPEC §5): combine an image with a normalised heatmap and
//! measure how much the model's raw logits move towards the label.

use tch::{Kind, Tensor};

use crate::attribution::{self, Method, Options};
use crate::error::{Error, Result};
use crate::model::Model;

/// How the heatmap is combined with the image.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// x + h.
    #[default]
    Sum,
    /// x ⊙ h.
    Mult,
}

impl Variant {
    /// Both variants.
    pub const ALL: [Self; 2] = [Self::Sum, Self::Mult];

    /// `sum` or `mult`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Mult => "mult",
        }
    }

    /// Parses `sum` or `mult`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The augmented input x' for heatmap `h`.
    pub fn apply(self, x: &Tensor, h: &Tensor) -> Tensor {
        match self {
            Self::Sum => x + h,
            Self::Mult => x * h,
        }
    }
}

/// Where a heatmap comes from: one of the six methods, or GAX. Ordered as the paper lists them:
/// the methods in their order, then GAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum HeatmapSource {
    /// An attribution method's AX heatmap.
    Method(Method),
    /// The GAX heatmap.
    #[default]
    Gax,
}

impl HeatmapSource {
    /// The name in dataset rows and summaries: the method's name, or `GAX`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gax => "GAX",
            Self::Method(m) => m.name(),
        }
    }

    /// Parses a name as [`Self::name`] writes it.
    pub fn parse(name: &str) -> Option<Self> {
        if name == Self::Gax.name() {
            Some(Self::Gax)
        } else {
            Method::parse(name).ok().map(Self::Method)
        }
    }
}

impl std::fmt::Display for HeatmapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl serde::Serialize for HeatmapSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// κ `[N, C]`: +1 at each row's label and −1/(C−1) elsewhere.
pub fn kappa(labels: &Tensor, classes: i64) -> Tensor {
    let n = labels.size()[0];
    let off = if classes > 1 { -1.0 / (crate::convert::i64_to_f64(classes) - 1.0) } else { 0.0 };
    let k = Tensor::full([n, classes], off, (Kind::Float, labels.device()));
    k.scatter_value(1, &labels.view([-1, 1]), 1.0)
}

/// κ `[N, C]` for `model`: [`kappa`] for single-label models; for a multi-label model +1 at each
/// row's chosen output and 0 elsewhere (SPEC §10: the other outputs are not rival classes).
pub fn kappa_for(model: &crate::model::ModelInfo, labels: &Tensor) -> Tensor {
    if model.multilabel {
        let n = labels.size()[0];
        let k = Tensor::zeros([n, model.classes], (Kind::Float, labels.device()));
        k.scatter_value(1, &labels.view([-1, 1]), 1.0)
    } else {
        kappa(labels, model.classes)
    }
}

/// CO per row: Σ_c κ_c (y'_c − y_c) on raw logits.
pub fn co_from_logits(augmented: &Tensor, baseline: &Tensor, kappa: &Tensor) -> Tensor {
    ((augmented - baseline) * kappa).sum_dim_intlist([1_i64].as_slice(), false, Kind::Float)
}

/// h = a / max|a| per image (over all its channels and pixels), sign kept. Images whose
/// attribution is all zero get h = 0 and are flagged.
pub fn normalise(a: &Tensor) -> Result<(Tensor, Vec<bool>)> {
    let n = a.size()[0];
    let amax = a.abs().view([n, -1]).amax([1_i64].as_slice(), false);
    let zero = amax.eq(0.0);
    let safe = amax.where_scalarother(&zero.logical_not(), 1.0).view([n, 1, 1, 1]);
    let h = a / safe;
    let flags = Vec::<bool>::try_from(zero.to_device(tch::Device::Cpu))?;
    Ok((h, flags))
}

/// How a prediction is read from logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readout {
    /// The arg-max class.
    #[default]
    ArgMax,
    /// One output of a multi-label model as a yes/no finding: 1 when its logit is positive
    /// (sigmoid above 0.5), else 0.
    Positive(i64),
}

impl Readout {
    /// The predictions `[N]` (int64) for logits `[N, C]`.
    pub fn read(self, logits: &Tensor) -> Tensor {
        match self {
            Self::ArgMax => logits.argmax(1, false),
            Self::Positive(t) => logits.select(1, t).gt(0.0).to_kind(Kind::Int64),
        }
    }
}

/// CO scores of heatmap `h` for every image, one per variant.
pub fn co_scores(
    model: &Model,
    x: &Tensor,
    h: &Tensor,
    labels: &[i64],
    variants: &[Variant],
) -> Result<Vec<Vec<f32>>> {
    Ok(co_and_predictions(model, x, h, labels, variants)?.into_iter().map(|(co, _)| co).collect())
}

/// CO scores of heatmap `h` and the model's prediction (arg-max) on x', per variant and image.
pub fn co_and_predictions(
    model: &Model,
    x: &Tensor,
    h: &Tensor,
    labels: &[i64],
    variants: &[Variant],
) -> Result<Vec<(Vec<f32>, Vec<i64>)>> {
    co_and_readout(model, x, h, labels, variants, Readout::ArgMax)
}

/// [`co_and_predictions`] with the prediction on x' read by `readout`.
pub fn co_and_readout(
    model: &Model,
    x: &Tensor,
    h: &Tensor,
    labels: &[i64],
    variants: &[Variant],
    readout: Readout,
) -> Result<Vec<(Vec<f32>, Vec<i64>)>> {
    let classes = model.info().classes;
    if let Some(bad) = labels.iter().find(|&&l| l < 0 || l >= classes) {
        return Err(Error::invalid(format!("label {bad} is outside 0..{classes}")));
    }
    let lab = Tensor::from_slice(labels).to_device(model.device());
    let k = kappa_for(model.info(), &lab);
    tch::no_grad(|| {
        let y0 = model.forward(x)?;
        crate::model::check_finite(&y0, || "the logits on x".to_owned())?;
        variants
            .iter()
            .map(|v| {
                let y = model.forward(&v.apply(x, h))?;
                crate::model::check_finite(&y, || format!("the logits on x' ({})", v.name()))?;
                let co =
                    Vec::<f32>::try_from(co_from_logits(&y, &y0, &k).to_device(tch::Device::Cpu))?;
                let pred = Vec::<i64>::try_from(readout.read(&y).to_device(tch::Device::Cpu))?;
                Ok((co, pred))
            })
            .collect()
    })
}

/// The AX result of one method on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct AxScore {
    /// The method.
    pub method: Method,
    /// CO with x + h.
    pub sum: f32,
    /// CO with x ⊙ h.
    pub mult: f32,
    /// The attribution was all zero (h = 0, CO = 0).
    pub zero_attribution: bool,
    /// The model's prediction on x + h.
    pub predicted_sum: i64,
    /// The model's prediction on x ⊙ h.
    pub predicted_mult: i64,
}

/// AX for a batch: each image's attribution by each method (target = its predicted class),
/// normalised, then CO in both variants against `labels` (ground truth, or the prediction
/// when `None`). Returns, per image, one [`AxScore`] per method, plus the predictions.
pub fn ax_batch(
    model: &Model,
    x: &Tensor,
    labels: Option<&[i64]>,
    methods: &[Method],
    opts: &Options,
) -> Result<(Vec<i64>, Vec<Vec<AxScore>>)> {
    ax_batch_with(model, x, labels, methods, opts, &mut |_, _| Ok(()))
}

/// [`ax_batch`], handing each method's normalised heatmaps (`[B, C, H, W]`) to `on_heatmap`.
pub fn ax_batch_with(
    model: &Model,
    x: &Tensor,
    labels: Option<&[i64]>,
    methods: &[Method],
    opts: &Options,
    on_heatmap: &mut dyn FnMut(Method, &Tensor) -> Result<()>,
) -> Result<(Vec<i64>, Vec<Vec<AxScore>>)> {
    ax_batch_read(model, x, (labels, Readout::ArgMax), methods, opts, on_heatmap)
}

/// [`ax_batch_with`] with predictions (on x and x') read by `readout`. `labels` are the outputs
/// CO weighs (default: the arg-max class). Attributions explain the arg-max class of a
/// single-label model and, for a multi-label model or a [`Readout::Positive`] one, the output
/// in `labels` (the chosen pathology).
pub fn ax_batch_read(
    model: &Model,
    x: &Tensor,
    (labels, readout): (Option<&[i64]>, Readout),
    methods: &[Method],
    opts: &Options,
    on_heatmap: &mut dyn FnMut(Method, &Tensor) -> Result<()>,
) -> Result<(Vec<i64>, Vec<Vec<AxScore>>)> {
    let arg_max = attribution::predict(model, x)?;
    let predicted = match readout {
        Readout::ArgMax => arg_max.clone(),
        Readout::Positive(_) => {
            let y = tch::no_grad(|| model.forward(x))?;
            Vec::<i64>::try_from(readout.read(&y).to_device(tch::Device::Cpu))?
        }
    };
    let labels = labels.map_or_else(|| arg_max.clone(), <[i64]>::to_vec);
    if labels.len() != predicted.len() {
        return Err(Error::invalid(format!(
            "{} labels for {} images",
            labels.len(),
            predicted.len()
        )));
    }
    let chosen = model.info().multilabel || readout != Readout::ArgMax;
    let targets = if chosen { &labels } else { &arg_max };
    let mut per_image: Vec<Vec<AxScore>> = vec![Vec::new(); predicted.len()];
    for &m in methods {
        let a = attribution::attribute(model, x, Some(targets.as_slice()), m, opts)?;
        let (h, zero) = normalise(&a)?;
        on_heatmap(m, &h)?;
        let r = co_and_readout(model, x, &h, &labels, &Variant::ALL, readout)?;
        let ((sum, psum), (mult, pmult)) = (&r[0], &r[1]);
        for (i, scores) in per_image.iter_mut().enumerate() {
            scores.push(AxScore {
                method: m,
                sum: sum[i],
                mult: mult[i],
                zero_attribution: zero[i],
                predicted_sum: psum[i],
                predicted_mult: pmult[i],
            });
        }
    }
    Ok((predicted, per_image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order() {
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.name()), Some(v));
        }
        let mut all: Vec<HeatmapSource> = vec![HeatmapSource::Gax];
        all.extend(Method::ALL.map(HeatmapSource::Method));
        for s in &all {
            assert_eq!(HeatmapSource::parse(s.name()), Some(*s));
        }
        assert_eq!(HeatmapSource::parse("gax"), None);
        all.sort();
        assert_eq!(all.first(), Some(&HeatmapSource::Method(Method::Saliency)));
        assert_eq!(all.last(), Some(&HeatmapSource::Gax));
    }

    #[test]
    fn kappa_rows() -> Result<()> {
        let k = kappa(&Tensor::from_slice(&[2_i64, 0]), 4);
        let v = Vec::<f32>::try_from(k.view([-1]))?;
        let third = -1.0 / 3.0;
        assert_eq!(v, vec![third, third, 1.0, third, 1.0, third, third, third]);
        Ok(())
    }

    #[test]
    fn normalise_flags_zero() -> Result<()> {
        let a =
            Tensor::from_slice(&[0.0_f32, 0.0, 0.0, 0.0, -4.0, 2.0, 1.0, 0.5]).view([2, 1, 2, 2]);
        let (h, flags) = normalise(&a)?;
        assert_eq!(flags, vec![true, false]);
        let v = Vec::<f32>::try_from(h.view([-1]))?;
        assert_eq!(v, vec![0.0, 0.0, 0.0, 0.0, -1.0, 0.5, 0.25, 0.125]);
        Ok(())
    }
}

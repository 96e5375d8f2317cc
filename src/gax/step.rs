//! How GAX steps execute. [`Eager`] builds a fresh autograd graph each step and drops finished
//! images from the batch. [`Static`] runs one fixed step on buffers that never move (forward,
//! readout, backward and Adam update, all in place), so that on a GPU the step is captured once
//! as a CUDA graph and replayed: the eager loop is launch-bound at batch 1.

use tch::{Device, Kind, Tensor};

use super::GaxConfig;
use super::adam::Adam;
use super::cuda_graph::CudaGraph;
use crate::ax;
use crate::error::{Error, Result};
use crate::model::Model;

/// Packed per-image scalars ahead of the top-k block: CO, loss, similarity, max |h|, predicted class.
pub(crate) const FIXED: usize = 5;

/// One evaluation of the active images, copied to the host.
#[derive(Debug)]
pub(crate) struct Readout {
    /// Per image `[co, loss, similarity, abs_max, predicted, k probabilities, k classes]`.
    pub scalars: Vec<f32>,
    /// The heatmaps `[n, 3, H, W]`, halved on the device.
    pub heat: Vec<half::f16>,
}

/// Executes GAX steps for the images still running.
pub(crate) trait Stepper {
    /// Evaluates the heatmaps of the running images (after as many updates as steps so far).
    fn evaluate(&mut self) -> Result<Readout>;
    /// Keeps the running images `keep` (indices into the last readout) and moves them one Adam
    /// update on.
    fn advance(&mut self, keep: &[usize]) -> Result<()>;
}

/// What every step needs besides the per-image state.
pub(crate) struct Problem<'a> {
    /// The classifier.
    pub model: &'a Model,
    /// Hyper-parameters.
    pub cfg: &'a GaxConfig,
    /// Top classes reported per image.
    pub top_k: i64,
}

/// One differentiable evaluation of a batch.
struct Evaluation {
    /// Per-image loss, still attached to the autograd graph.
    loss: Tensor,
    /// The heatmaps `[n, 3, H, W]` (detached).
    heat: Tensor,
    /// The packed per-image scalars (see [`Readout::scalars`]).
    scalars: Tensor,
    /// W and b as the leaves the loss is differentiated against.
    leaves: [Tensor; 2],
}

/// Per-image tensors of a batch: input, κ, baseline logits, and the trainable W and b.
struct Batch {
    x: Tensor,
    k: Tensor,
    y0: Tensor,
    w: Tensor,
    b: Tensor,
    adam_w: Adam,
    adam_b: Adam,
}

impl Batch {
    fn new(x: Tensor, k: Tensor, y0: Tensor, lr: f64) -> Self {
        let w = x.ones_like();
        let b = x.full_like(0.01);
        let (adam_w, adam_b) = (Adam::new(&w, lr), Adam::new(&b, lr));
        Self { x, k, y0, w, b, adam_w, adam_b }
    }

    /// The differentiable step on the current W and b.
    fn evaluate(&self, p: &Problem<'_>) -> Result<Evaluation> {
        let wl = self.w.detach().set_requires_grad(true);
        let bl = self.b.detach().set_requires_grad(true);
        let heat = (&wl * &self.x + &bl).tanh();
        let y = p.model.forward(&p.cfg.variant.apply(&self.x, &heat))?;
        let co = ax::co_from_logits(&y, &self.y0, &self.k);
        let n = self.x.size()[0];
        let eps = p.cfg.eps;
        let sim = ((&heat - &self.x + eps).square() / (&self.x + eps)).view([n, -1]).mean_dim([1_i64].as_slice(), false, Kind::Float);
        let loss = -&co + sim.reciprocal() * p.cfg.lambda;
        let y = y.detach();
        let heat = heat.detach();
        let (probs, classes) = y.softmax(1, Kind::Float).topk(p.top_k, 1, true, true);
        let column = |t: &Tensor| t.detach().to_kind(Kind::Float).unsqueeze(1);
        let scalars = Tensor::cat(
            &[
                column(&co),
                column(&loss),
                column(&sim),
                column(&heat.abs().view([n, -1]).amax([1_i64].as_slice(), false)),
                column(&y.argmax(1, false)),
                probs,
                classes.to_kind(Kind::Float),
            ],
            1,
        );
        Ok(Evaluation { loss, heat, scalars, leaves: [wl, bl] })
    }

    /// One Adam update of W and b from an evaluation's loss.
    fn update(&mut self, e: &Evaluation) -> Result<()> {
        let grads = Tensor::f_run_backward(&[e.loss.sum(Kind::Float)], &[&e.leaves[0], &e.leaves[1]], false, false)?;
        tch::no_grad(|| {
            self.adam_w.update(&mut self.w, &grads[0]);
            self.adam_b.update(&mut self.b, &grads[1]);
        });
        Ok(())
    }

    fn select_rows(&mut self, idx: &Tensor) {
        for t in [&mut self.x, &mut self.k, &mut self.y0, &mut self.w, &mut self.b] {
            *t = t.index_select(0, idx);
        }
        self.adam_w.select_rows(idx);
        self.adam_b.select_rows(idx);
    }
}

/// Copies a readout to the host (halving the heatmaps unless they already are).
fn read(scalars: &Tensor, heat: &Tensor) -> Result<Readout> {
    Ok(Readout {
        scalars: Vec::<f32>::try_from(scalars.to_device(Device::Cpu).view([-1]))?,
        heat: Vec::<half::f16>::try_from(heat.to_kind(Kind::Half).to_device(Device::Cpu).view([-1]))?,
    })
}

fn index_tensor(rows: &[usize], device: Device) -> Tensor {
    Tensor::from_slice(&rows.iter().map(|&i| i64::try_from(i).unwrap_or(0)).collect::<Vec<_>>()).to_device(device)
}

/// Define-by-run steps: a fresh autograd graph each step; finished images leave the batch, so
/// they stop costing work.
pub(crate) struct Eager<'a> {
    p: Problem<'a>,
    batch: Batch,
    /// The last evaluation, differentiated by the next [`Stepper::advance`].
    pending: Option<Evaluation>,
}

impl<'a> Eager<'a> {
    /// Starts from W = 1, b = 0.01 for the images `x` with κ `k` and baseline logits `y0`.
    pub(crate) fn new(p: Problem<'a>, x: Tensor, k: Tensor, y0: Tensor) -> Self {
        let batch = Batch::new(x, k, y0, p.cfg.lr);
        Self { p, batch, pending: None }
    }
}

impl Stepper for Eager<'_> {
    fn evaluate(&mut self) -> Result<Readout> {
        let e = self.batch.evaluate(&self.p)?;
        let out = read(&e.scalars, &e.heat)?;
        self.pending = Some(e);
        Ok(out)
    }

    fn advance(&mut self, keep: &[usize]) -> Result<()> {
        let e = self.pending.take().ok_or_else(|| Error::invalid("GAX advanced before an evaluation"))?;
        // Rows are independent, so dropping finished ones after the update equals dropping
        // them before it; the backward still has to see the whole graph it was built on.
        self.batch.update(&e)?;
        if keep.len() < usize::try_from(self.batch.x.size()[0]).unwrap_or(0) {
            self.batch.select_rows(&index_tensor(keep, self.batch.x.device()));
        }
        Ok(())
    }
}

/// Fixed-shape steps on static buffers: each evaluation runs the whole step (readout of the
/// current heatmaps, then their Adam update) writing into the same memory, replayed from a
/// CUDA graph when one was captured. Finished images stay in the batch but are no longer read;
/// when at most half the batch still runs, the survivors are compacted and the step captured
/// again.
pub(crate) struct Static<'a> {
    p: Problem<'a>,
    batch: Batch,
    /// The step's outputs, rewritten in place by every run (the heatmaps already halved).
    scalars: Tensor,
    heat: Tensor,
    graph: Option<CudaGraph>,
    /// Which batch row each running image occupies.
    rows: Vec<usize>,
}

impl<'a> Static<'a> {
    /// Allocates the buffers for `x` and, on a CUDA device, captures the step.
    pub(crate) fn new(p: Problem<'a>, x: Tensor, k: Tensor, y0: Tensor) -> Result<Self> {
        let n = usize::try_from(x.size()[0]).unwrap_or(0);
        let batch = Batch::new(x, k, y0, p.cfg.lr);
        let width = i64::try_from(FIXED).unwrap_or(5) + 2 * p.top_k;
        let scalars = Tensor::zeros([batch.x.size()[0], width], (Kind::Float, batch.x.device()));
        let heat = Tensor::zeros(batch.x.size(), (Kind::Half, batch.x.device()));
        let mut s = Self { p, batch, scalars, heat, graph: None, rows: (0..n).collect() };
        s.capture_graph()?;
        Ok(s)
    }

    /// The whole step: readout into the static outputs, then one update of every row.
    fn run_step(&mut self) -> Result<()> {
        let e = self.batch.evaluate(&self.p)?;
        self.scalars.f_copy_(&e.scalars)?;
        self.heat.f_copy_(&e.heat)?;
        self.batch.update(&e)
    }

    /// Captures the step as a CUDA graph after two warm-up steps, then undoes the warm-up's
    /// updates (capturing itself runs nothing).
    fn capture_graph(&mut self) -> Result<()> {
        self.graph = None;
        let Device::Cuda(device) = self.batch.x.device() else { return Ok(()) };
        let (w0, b0) = (self.batch.w.copy(), self.batch.b.copy());
        let (aw0, ab0) = (self.batch.adam_w.snapshot(), self.batch.adam_b.snapshot());
        let this = std::cell::RefCell::new(&mut *self);
        let graph = CudaGraph::capture(
            device,
            &mut || {
                let mut s = this.borrow_mut();
                s.run_step()?;
                s.run_step()
            },
            &mut || this.borrow_mut().run_step(),
        )?;
        self.batch.w.f_copy_(&w0)?;
        self.batch.b.f_copy_(&b0)?;
        self.batch.adam_w.restore(&aw0)?;
        self.batch.adam_b.restore(&ab0)?;
        self.graph = Some(graph);
        Ok(())
    }
}

impl Stepper for Static<'_> {
    fn evaluate(&mut self) -> Result<Readout> {
        match &self.graph {
            Some(g) => g.replay()?,
            None => self.run_step()?,
        }
        let all = self.batch.x.size()[0];
        if usize::try_from(all).ok() == Some(self.rows.len()) {
            return read(&self.scalars, &self.heat);
        }
        let idx = index_tensor(&self.rows, self.scalars.device());
        read(&self.scalars.index_select(0, &idx), &self.heat.index_select(0, &idx))
    }

    fn advance(&mut self, keep: &[usize]) -> Result<()> {
        self.rows = keep.iter().map(|&i| self.rows[i]).collect();
        let all = usize::try_from(self.batch.x.size()[0]).unwrap_or(0);
        if !self.rows.is_empty() && self.rows.len() * 2 <= all && all > 1 {
            let idx = index_tensor(&self.rows, self.batch.x.device());
            self.batch.select_rows(&idx);
            self.scalars = self.scalars.index_select(0, &idx);
            self.heat = self.heat.index_select(0, &idx);
            self.rows = (0..self.rows.len()).collect();
            self.capture_graph()?;
        }
        Ok(())
    }
}


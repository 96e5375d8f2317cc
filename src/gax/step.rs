//! How GAX steps execute. [`Eager`] builds a fresh autograd graph each step and drops finished
//! images from the batch. [`Static`] runs one fixed step on buffers that never move (forward,
//! readout, backward and Adam update, all in place), so that on a GPU the step is captured once
//! as a CUDA graph and replayed: the eager loop is launch-bound at batch 1.
//!
//! On a GPU both overlap the host's share of a step with the device's: the readout is copied
//! into page-locked buffers that are reused, and the device is given its next work (the update,
//! or the whole next step) before the host splits the readout into per-image heatmaps.

use tch::{Device, Kind, Tensor};

use super::GaxConfig;
use super::adam::Adam;
use super::cuda_graph::{CopyStream, CudaGraph};
use crate::ax;
use crate::convert::{to_i64, to_usize};
use crate::error::{Error, Result};
use crate::model::Model;

/// The smallest batch whose graph capture autotunes cuDNN (see [`Static::capture_graph`]).
const AUTOTUNE_MIN_BATCH: i64 = 32;

/// Packed per-image scalars ahead of the top-k block: CO, loss, similarity, max |h|, predicted
/// class.
pub(crate) const FIXED: usize = 5;

/// One evaluation of the active images, copied to the host.
#[derive(Debug)]
pub(crate) struct Readout {
    /// Per image `[co, loss, similarity, abs_max, predicted, k probabilities, k classes]`.
    pub scalars: Vec<f32>,
    /// Per image its heatmap `[C, H, W]`, halved on the device.
    pub heat: Vec<Vec<half::f16>>,
}

/// Executes GAX steps for the images still running.
pub(crate) trait Stepper {
    /// Evaluates the heatmaps of the running images (after as many updates as steps so far).
    fn evaluate(&mut self) -> Result<Readout>;
    /// Keeps the running images `keep` (indices into the last readout), which the next
    /// evaluation shows one Adam update on.
    fn advance(&mut self, keep: &[usize]) -> Result<()>;
}

/// What every step needs besides the per-image state.
#[derive(Clone, Copy)]
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
    /// The heatmaps `[n, C, H, W]` (detached).
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
        let sim = ((&heat - &self.x + eps).square() / (&self.x + eps)).view([n, -1]).mean_dim(
            [1_i64].as_slice(),
            false,
            Kind::Float,
        );
        let loss = -&co + sim.reciprocal() * p.cfg.lambda;
        let y = y.detach();
        let heat = heat.detach();
        let (probs, classes) = p.model.info().probabilities(&y).topk(p.top_k, 1, true, true);
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
        let grads = Tensor::f_run_backward(
            &[e.loss.sum(Kind::Float)],
            &[&e.leaves[0], &e.leaves[1]],
            false,
            false,
        )?;
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

/// The host side of a readout: page-locked buffers on a GPU (allocated once per batch shape and
/// reused, so a step neither maps fresh memory nor copies through a bounce buffer), the
/// tensors themselves on the CPU.
#[derive(Default)]
struct Host {
    scalars: Option<Tensor>,
    heat: Option<Tensor>,
}

impl Host {
    /// Copies a step's outputs to the host, waiting only for the work queued so far.
    fn fetch(&mut self, scalars: &Tensor, heat: &Tensor) -> Result<()> {
        let heat = heat.to_kind(Kind::Half);
        let device = scalars.device();
        if device == Device::Cpu {
            (self.scalars, self.heat) = (Some(scalars.shallow_clone()), Some(heat));
            return Ok(());
        }
        Self::copy_into(&mut self.scalars, scalars, device)?;
        Self::copy_into(&mut self.heat, &heat, device)
    }

    fn copy_into(slot: &mut Option<Tensor>, src: &Tensor, device: Device) -> Result<()> {
        let host = match slot.take() {
            Some(host) if host.size() == src.size() => host,
            _ => Tensor::f_empty(src.size(), (src.kind(), Device::Cpu))?
                .f_internal_pin_memory(device)?,
        };
        Ok(slot.insert(host).f_copy_(src)?)
    }

    /// The last fetched outputs as host vectors, one heatmap per image.
    fn readout(&self) -> Result<Readout> {
        let (Some(scalars), Some(heat)) = (&self.scalars, &self.heat) else {
            return Err(Error::invalid("GAX readout before a fetch"));
        };
        let heat = (0..heat.size()[0])
            .map(|i| Vec::<half::f16>::try_from(heat.get(i).view([-1])))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Readout { scalars: Vec::<f32>::try_from(scalars.view([-1]))?, heat })
    }
}

fn index_tensor(rows: &[usize], device: Device) -> Tensor {
    Tensor::from_slice(&rows.iter().map(|&i| to_i64(i)).collect::<Vec<_>>()).to_device(device)
}

/// Define-by-run steps: a fresh autograd graph each step; finished images leave the batch, so
/// they stop costing work.
pub(crate) struct Eager<'a> {
    p: Problem<'a>,
    batch: Batch,
    host: Host,
    /// Steps evaluated so far.
    evaluated: usize,
    /// The last evaluation, when its update waits for [`Stepper::advance`].
    pending: Option<Evaluation>,
}

impl<'a> Eager<'a> {
    /// Starts from W = 1, b = 0.01 for the images `x` with κ `k` and baseline logits `y0`.
    pub(crate) fn new(p: Problem<'a>, x: Tensor, k: Tensor, y0: Tensor) -> Self {
        let batch = Batch::new(x, k, y0, p.cfg.lr);
        Self { p, batch, host: Host::default(), evaluated: 0, pending: None }
    }
}

impl Stepper for Eager<'_> {
    fn evaluate(&mut self) -> Result<Readout> {
        let e = self.batch.evaluate(&self.p)?;
        self.host.fetch(&e.scalars, &e.heat)?;
        self.evaluated += 1;
        // On a GPU the update is queued before the host splits the readout, so that the two
        // overlap; rows are independent, so an image that stops now only wastes its share. On
        // the CPU nothing would overlap, so the update waits until it is known to be needed.
        if self.batch.x.device().is_cuda() && self.evaluated <= self.p.cfg.max_steps {
            self.batch.update(&e)?;
        } else {
            self.pending = Some(e);
        }
        self.host.readout()
    }

    fn advance(&mut self, keep: &[usize]) -> Result<()> {
        // The whole batch is differentiated even when rows are dropped next: the backward has
        // to see the graph it was built on.
        if let Some(e) = self.pending.take() {
            self.batch.update(&e)?;
        }
        if keep.len() < to_usize(self.batch.x.size()[0]) {
            self.batch.select_rows(&index_tensor(keep, self.batch.x.device()));
        }
        Ok(())
    }
}

/// Fixed-shape steps on static buffers: each evaluation runs the whole step (readout of the
/// current heatmaps, then their Adam update) writing into the same memory, replayed from a
/// CUDA graph when one was captured. Each step is launched one ahead of its readout, so a run
/// that stops at its target has computed one step more than it reports (on a GPU that step
/// overlaps the host's work). Finished images stay in the batch but are no longer read; when at
/// most half the batch still runs, the survivors are compacted and the step captured again.
pub(crate) struct Static<'a> {
    p: Problem<'a>,
    batch: Batch,
    /// The step's outputs, rewritten in place by every run (the heatmaps already halved).
    scalars: Tensor,
    heat: Tensor,
    graph: Option<CudaGraph>,
    /// Where readouts are copied to the host while the next step computes (on a GPU).
    copies: Option<CopyStream>,
    /// Which batch row each running image occupies.
    rows: Vec<usize>,
    host: Host,
    /// Steps evaluated so far.
    evaluated: usize,
    /// Whether the outputs already hold the next readout, from a step launched ahead.
    ready: bool,
}

impl<'a> Static<'a> {
    /// Allocates the buffers for `x` and, on a CUDA device, captures the step.
    pub(crate) fn new(p: Problem<'a>, x: Tensor, k: Tensor, y0: Tensor) -> Result<Self> {
        let n = to_usize(x.size()[0]);
        let batch = Batch::new(x, k, y0, p.cfg.lr);
        let width = to_i64(FIXED) + 2 * p.top_k;
        let scalars = Tensor::zeros([batch.x.size()[0], width], (Kind::Float, batch.x.device()));
        let heat = Tensor::zeros(batch.x.size(), (Kind::Half, batch.x.device()));
        let mut s = Self {
            p,
            batch,
            scalars,
            heat,
            graph: None,
            copies: None,
            rows: (0..n).collect(),
            host: Host::default(),
            evaluated: 0,
            ready: false,
        };
        s.capture_graph(true)?;
        Ok(s)
    }

    /// Runs the next step: the captured graph, or the step itself where there is none.
    fn launch(&mut self) -> Result<()> {
        match &self.graph {
            Some(g) => g.replay(),
            None => self.run_step(),
        }
    }

    /// The whole step: readout into the static outputs, then one update of every row.
    fn run_step(&mut self) -> Result<()> {
        let e = self.batch.evaluate(&self.p)?;
        self.scalars.f_copy_(&e.scalars)?;
        self.heat.f_copy_(&e.heat)?;
        self.batch.update(&e)
    }

    /// Captures the step as a CUDA graph after two warm-up steps, then undoes the warm-up's
    /// updates and outputs (capturing itself runs nothing).
    ///
    /// A run's first capture of a large batch lets cuDNN's autotuner time the convolution
    /// algorithms during the warm-up: the shapes never change, so the choice holds for every
    /// replay (AlexNet at batch 64 on an H200: 6.06 against 5.38 ms per step, BENCHMARKS.md).
    /// Small batches and the recaptures after compaction skip it: its trials take seconds (4 s
    /// for the demo model at batch 1), more than a short run saves.
    fn capture_graph(&mut self, first: bool) -> Result<()> {
        self.graph = None;
        let Device::Cuda(device) = self.batch.x.device() else { return Ok(()) };
        tch::Cuda::cudnn_set_benchmark(first && self.batch.x.size()[0] >= AUTOTUNE_MIN_BATCH);
        if self.copies.is_none() {
            self.copies = Some(CopyStream::new(device)?);
        }
        let (w0, b0) = (self.batch.w.copy(), self.batch.b.copy());
        let (scalars0, heat0) = (self.scalars.copy(), self.heat.copy());
        let (aw0, ab0) = (self.batch.adam_w.snapshot(), self.batch.adam_b.snapshot());
        let this = std::cell::RefCell::new(&mut *self);
        let captured = CudaGraph::capture(
            device,
            &mut || {
                let mut s = this.borrow_mut();
                s.run_step()?;
                s.run_step()
            },
            &mut || this.borrow_mut().run_step(),
        );
        tch::Cuda::cudnn_set_benchmark(false);
        let graph = captured?;
        self.batch.w.f_copy_(&w0)?;
        self.batch.b.f_copy_(&b0)?;
        self.batch.adam_w.restore(&aw0)?;
        self.batch.adam_b.restore(&ab0)?;
        self.scalars.f_copy_(&scalars0)?;
        self.heat.f_copy_(&heat0)?;
        self.graph = Some(graph);
        Ok(())
    }
}

impl Stepper for Static<'_> {
    fn evaluate(&mut self) -> Result<Readout> {
        if !self.ready {
            self.launch()?;
        }
        self.ready = false;
        self.evaluated += 1;
        let (scalars, heat) = if to_usize(self.batch.x.size()[0]) == self.rows.len() {
            (self.scalars.copy(), self.heat.copy())
        } else {
            let idx = index_tensor(&self.rows, self.scalars.device());
            (self.scalars.index_select(0, &idx), self.heat.index_select(0, &idx))
        };
        // The readout is snapshotted and the next step launched before the snapshot goes to the
        // host, so that on a GPU the copy (on the copy stream) and the host's splitting of it
        // overlap that step. An image that stops now only leaves its row unread.
        if let Some(c) = &self.copies {
            c.mark()?;
        }
        if self.evaluated <= self.p.cfg.max_steps {
            self.launch()?;
            self.ready = true;
        }
        match &self.copies {
            Some(c) => c.run(|| self.host.fetch(&scalars, &heat))?,
            None => self.host.fetch(&scalars, &heat)?,
        }
        self.host.readout()
    }

    fn advance(&mut self, keep: &[usize]) -> Result<()> {
        self.rows = keep.iter().map(|&i| self.rows[i]).collect();
        let all = to_usize(self.batch.x.size()[0]);
        if !self.rows.is_empty() && self.rows.len() * 2 <= all && all > 1 {
            let idx = index_tensor(&self.rows, self.batch.x.device());
            self.batch.select_rows(&idx);
            self.scalars = self.scalars.index_select(0, &idx);
            self.heat = self.heat.index_select(0, &idx);
            self.rows = (0..self.rows.len()).collect();
            self.capture_graph(false)?;
        }
        Ok(())
    }
}

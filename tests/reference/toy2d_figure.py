"""Writes tests/reference/toy2d_figure.csv, the fixture of the 2-D example (the paper's Section 2).

Two independent peers of `heatmap-explorer toy2d`, in float64, for the paper's three panels
(a1 = 0.95, 0.7, 0.55; a2 = 1 - a1) at 128 angles from -pi to pi (numpy.linspace):

* h1_plotted, h2_plotted: the values the paper's Figures 1 and 6 plot. Its plotting code
  (gax/src/basic/twoDplot.py in ericotjo001/explainable_ai) uses x = R(theta) a and
  w = 1 + eta * (eta * grad) with grad = ((cos + sin) x1, (sin - cos) x2) and eta = 1.2,
  i.e. an effective k*eta of 1.44. Re-derived here with NumPy, not copied.
* h1_torch, h2_torch: 5 steps of plain gradient ascent with rate 1.2 / 5 on
  Delta = [f(x + h) - f(x)] . (1, -1), f(x) = W^-1 x (sigma = identity), h = w * x, w = 1 at
  the start, the gradient from PyTorch's autograd.

Run from the repository root with the project's venv: python tests/reference/toy2d_figure.py
"""

import csv
import sys

import numpy as np
import torch

A1 = [0.95, 0.7, 0.55]
ETA_PLOT = 1.2
K_ETA_TORCH, STEPS_TORCH = 1.2, 5
SAMPLES = 128


def plotted(a1, theta):
    a2 = 1.0 - a1
    c, s = np.cos(theta), np.sin(theta)
    x1, x2 = a1 * c - a2 * s, a1 * s + a2 * c
    g1, g2 = (c + s) * x1, (s - c) * x2
    w1, w2 = 1.0 + ETA_PLOT * (ETA_PLOT * g1), 1.0 + ETA_PLOT * (ETA_PLOT * g2)
    return x1, x2, w1 * x1, w2 * x2


def torch_ascent(a1, theta):
    th = torch.tensor(theta, dtype=torch.float64)
    c, s = torch.cos(th), torch.sin(th)
    w_mat = torch.stack([torch.stack([c, -s], 1), torch.stack([s, c], 1)], 1)
    w_inv = torch.linalg.inv(w_mat)
    a = torch.tensor([a1, 1.0 - a1], dtype=torch.float64).view(1, 2, 1)
    x = w_mat @ a
    kappa = torch.tensor([1.0, -1.0], dtype=torch.float64)
    base = (w_inv @ x).squeeze(-1)
    w = torch.ones_like(x)
    for _ in range(STEPS_TORCH):
        w.requires_grad_(True)
        delta = (((w_inv @ (x + w * x)).squeeze(-1) - base) * kappa).sum()
        (g,) = torch.autograd.grad(delta, w)
        w = (w.detach() + (K_ETA_TORCH / STEPS_TORCH) * g).detach()
    return (w * x).squeeze(-1).numpy()


def main(out):
    theta = np.linspace(-np.pi, np.pi, SAMPLES)
    with open(out, "w", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["a1", "theta", "x1", "x2", "h1_plotted", "h2_plotted", "h1_torch", "h2_torch"])
        for a1 in A1:
            x1, x2, h1, h2 = plotted(a1, theta)
            ht = torch_ascent(a1, theta)
            for i, t in enumerate(theta):
                row = [a1, t, x1[i], x2[i], h1[i], h2[i], ht[i, 0], ht[i, 1]]
                wr.writerow([repr(float(v)) for v in row])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/reference/toy2d_figure.csv")

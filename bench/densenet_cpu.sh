#!/usr/bin/env bash
# DenseNet121 on the CPU (issue #17), side by side in one run on one machine: the six methods
# for one image and one GAX step at 224² (batch 1), ours (release binary, `bench attribute` and
# `bench gax --engine eager`) against Captum 0.9.0 and the paper's PyTorch eager loop
# (bench/densenet_captum.py), for torchvision's densenet121 (3 channels, 1000 classes) and
# torchxrayvision's layout xrv-densenet121 (1 channel, 18 outputs). Random weights on both sides.
# Run it on a quiet machine; both sides use every core.
# Usage: make release && bench/densenet_cpu.sh        (SIZE, REPS, STEPS, ARCHS override)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=${BIN:-./target/release/heatmap-explorer}
SIZE=${SIZE:-224}
REPS=${REPS:-3}
STEPS=${STEPS:-6}
ARCHS=${ARCHS:-densenet121,xrv-densenet121}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores; $($BIN info | grep device)"
echo "## ours"
$BIN --device cpu bench attribute --arch "$ARCHS" --batch 1 --steps "$REPS" --size "$SIZE"
$BIN --device cpu bench gax --arch "$ARCHS" --batch 1 --steps "$STEPS" --size "$SIZE" --engine eager
echo "## Captum 0.9.0 / PyTorch eager"
CUDA_VISIBLE_DEVICES= PYTHONWARNINGS=ignore $PY bench/densenet_captum.py "$ARCHS" "$SIZE" "$REPS" "$STEPS"

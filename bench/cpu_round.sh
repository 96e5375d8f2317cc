#!/usr/bin/env bash
# One CPU round of every side-by-side benchmark that has no figure yet, in one run on one machine:
# GAX steps (ours vs the paper's loop), dataset AX (ours batched vs the Captum loop), decode +
# resize (ours vs PIL + torchvision), opening the NEMA chest CR (ours vs pydicom), and, as root
# with slurm-wlm + munge, `ax --data` as a 1- and a 4-task SLURM array.
# Usage: make release && cargo build --release --examples && bench/cpu_round.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
REL=${REL:-./target/release}
export BIN=${BIN:-$REL/heatmap-explorer}
W=$(mktemp -d /tmp/hx-cpu-round-XXXXXX)
trap 'rm -rf "$W"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores; $($BIN info | grep device)"
echo "## GAX step"
STEPS=10 BATCHES=1,8 ATTR_BATCHES=1 bash bench/run.sh 2>&1 | grep -v '^#' | head -40
echo "## dataset AX"
$BIN phantom --out "$W/samples" --count 24 --seed 2026 >/dev/null 2>&1
PYTHONWARNINGS=ignore $PY - "$W/w.safetensors" <<'PYEOF'
import sys, torch, torchvision
from safetensors.torch import save_file
torch.manual_seed(0)
m = torchvision.models.resnet34(weights=None)
save_file({k: v.contiguous() for k, v in m.state_dict().items()}, sys.argv[1])
PYEOF
t0=$(date +%s.%N)
$BIN ax --arch resnet34 --weights "$W/w.safetensors" --data "$W/samples" --batch 8 --out "$W/ds.csv" >/dev/null
echo "ours ax --data --batch 8: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s for 24 images"
t0=$(date +%s.%N)
PYTHONWARNINGS=ignore $PY bench/dataset_captum.py "$W/w.safetensors" "$W/samples" | tail -2
echo "captum loop: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s for 24 images"
echo "## decode + resize"
PYTHONWARNINGS=ignore $PY bench/decode_time.py "$W/decode" 50
"$REL/examples/decode_time" "$W/decode" 50
echo "## DICOM open"
bash bench/dicom_open.sh
if [ "$(id -u)" = 0 ] && command -v slurmd >/dev/null; then
  echo "## SLURM"
  bash bench/slurm_scaling.sh
fi

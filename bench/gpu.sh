#!/usr/bin/env bash
# The GPU checks of the GAX engine as one prepared run on a lent GPU machine (the `device` tool):
# the CUDA-graph engine's trajectory against the eager one on the card, then both engines timed
# against the PyTorch anchors (the paper's eager loop and its CUDA-graph limit) in the same run.
#   here:  make release && bench/gpu.sh prepare      (copies the binary and the anchors into .devcarry/)
#   there: bench/gpu.sh                               (run with carry: [".devcarry"]; writes $OUT/gpu.log)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = prepare ]; then
  mkdir -p .devcarry
  cp target/release/heatmap-explorer ../shared/anchors/gax_anchor.py ../shared/anchors/gax_limit.py .devcarry/
  exit 0
fi
export LD_LIBRARY_PATH
LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')/lib
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
BIN=.devcarry/heatmap-explorer
LOG=${OUT:-/tmp}/gpu.log
exec > >(tee "$LOG") 2>&1
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
$BIN info
echo "## 1. eager vs graph trajectories (shipped demo model, pneumonia_1, 30 steps, no target)"
for e in eager graph; do
  $BIN --device cuda gax --model models/phantom_squeezenet.json --image assets/samples/pneumonia_1.png \
    --target-co 1e9 --max-steps 30 --engine $e --quiet --out /tmp/$e.gaxrun --trace /tmp/$e.csv || echo "gax --engine $e failed"
done
python3 - <<'PY'
import csv
a = [float(r["co"]) for r in csv.DictReader(open("/tmp/eager.csv"))]
b = [float(r["co"]) for r in csv.DictReader(open("/tmp/graph.csv"))]
scale = max(abs(v) for v in a)
print(f"steps {len(a)} / {len(b)}; CO eager {a[-1]:.4f} graph {b[-1]:.4f}; max |diff| / max |CO| = {max(abs(x - y) for x, y in zip(a, b)) / scale:.2e}")
PY
echo "## 2. ms per step, ours (both engines) then PyTorch (eager loop, CUDA-graph limit)"
$BIN --device cuda bench gax --arch resnet34,alexnet --batch 1,64 --steps 50 --engine eager,graph
python3 - <<'PY'
import runpy
m = runpy.run_path(".devcarry/gax_anchor.py", run_name="anchor")
for arch in ("resnet34", "alexnet"):
    for b in (1, 64):
        m["gax"](arch, b, 50)
PY
python3 .devcarry/gax_limit.py
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader

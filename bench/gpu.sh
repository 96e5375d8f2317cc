#!/usr/bin/env bash
# The GPU checks of the GAX engine as one prepared run on a lent GPU machine (the `device` tool):
# the CUDA-graph engine's trajectories against the eager one on the card (one image, and four
# batched images that stop at different steps so the batch is compacted and recaptured), then
# both engines timed against the PyTorch anchors (the paper's eager loop and its CUDA-graph
# limit) in the same run. Each phase has its own time limit, so one failure leaves the rest.
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
limit() { timeout "$@" || echo "!! exit $? from: ${*:2}"; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
limit 60 $BIN info
S=assets/samples
compare() {  # compare EAGER_A EAGER_B GRAPH: per (image, step) CO differences, run to run and engine to engine
  python3 - "$@" <<'PY'
import csv, sys
runs = [{(r.get("image", "0"), int(r["step"])): float(r["co"]) for r in csv.DictReader(open(p))} for p in sys.argv[1:4]]
a = runs[0]
scale = max(abs(v) for v in a.values())
for name, b in (("eager vs eager (the GPU's own nondeterminism)", runs[1]), ("eager vs graph", runs[2])):
    common = a.keys() & b.keys()
    early = [abs(a[k] - b[k]) / scale for k in common if k[1] <= 3]
    every = [abs(a[k] - b[k]) / scale for k in common]
    print(f"{name}: rows {len(a)} / {len(b)}, same (image, step) set {set(a) == set(b)}; "
          f"max |dCO| / max |CO|: steps 0-3 {max(early):.1e}, all {max(every):.1e}")
last = {}
for (i, s), v in sorted(runs[2].items()):
    last[i] = (s, round(v, 3))
print("graph: last step and CO per image:", last)
PY
}
one() { limit 120 $BIN gax --device cuda --model models/phantom_squeezenet.json "$@" --quiet; }
echo "## 1a. eager (twice) vs graph: shipped demo model, pneumonia_1, 30 steps, no target"
for e in eager eager2 graph; do
  one --image $S/pneumonia_1.png --target-co 1e9 --max-steps 30 --engine ${e%2} --out /tmp/one-$e.gaxrun --trace /tmp/one-$e.csv
done
compare /tmp/one-eager.csv /tmp/one-eager2.csv /tmp/one-graph.csv
echo "## 1b. the same, four images batched with target CO 30 (on the CPU they stop at steps 2, 4, 16, 26)"
for e in eager eager2 graph; do
  one --image $S/pneumonia_1.png --image $S/normal_1.png --image $S/normal_2.png --image $S/pneumonia_2.png \
    --target-co 30 --max-steps 40 --engine ${e%2} --out /tmp/four-$e.gaxrun --trace /tmp/four-$e.csv
done
compare /tmp/four-eager.csv /tmp/four-eager2.csv /tmp/four-graph.csv
echo "## 2. ms per step: ours (eager, then graph), then PyTorch (eager loop, CUDA-graph limit)"
for e in eager graph; do
  limit 240 $BIN bench gax --device cuda --arch resnet34,alexnet --batch 1,64 --steps 50 --engine $e
done
limit 240 python3 - <<'PY'
import runpy
m = runpy.run_path(".devcarry/gax_anchor.py", run_name="anchor")
for arch in ("resnet34", "alexnet"):
    for b in (1, 64):
        m["gax"](arch, b, 50)
PY
limit 240 python3 .devcarry/gax_limit.py
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader
echo "# done $(date -u +%H:%M:%S)"

#!/usr/bin/env bash
# Side-by-side benchmarks on one machine in one run: ours (release binary) against the PyTorch
# anchor (../shared/anchors/gax_anchor.py, the paper's GAX loop) and Captum 0.9.0.
# Usage: bench/run.sh [quick]     (run from the repository root after `make release`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=${BIN:-./target/release/heatmap-explorer}
ANCHOR=${ANCHOR:-../shared/anchors/gax_anchor.py}
BATCHES=${BATCHES:-1,8}
ATTR_BATCHES=${ATTR_BATCHES:-1,32}
STEPS=${STEPS:-10}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores; $($BIN info | grep device)"
$BIN bench gax --arch resnet34,alexnet --batch "$BATCHES" --steps "$STEPS"
[ -f "$ANCHOR" ] && PYTHONWARNINGS=ignore $PY - "$ANCHOR" "$STEPS" "$BATCHES" <<'PYEOF'
import runpy, sys
anchor, steps, batches = sys.argv[1], int(sys.argv[2]), [int(b) for b in sys.argv[3].split(",")]
m = runpy.run_path(anchor, run_name="anchor")
print("torch", m["torch"].__version__, "device", m["dev"], flush=True)
for arch in ("resnet34", "alexnet"):
    for b in batches:
        m["gax"](arch, b, steps)
PYEOF
$BIN bench attribute --arch resnet34,alexnet --batch "$ATTR_BATCHES" --steps 2
PYTHONWARNINGS=ignore $PY bench/captum_methods.py resnet34,alexnet "$ATTR_BATCHES" 2

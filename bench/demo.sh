#!/usr/bin/env bash
# The demo figures (README and BENCHMARKS.md): GAX with the shipped well-trained phantom model on
# every sample image, then AX (six methods, both variants, plus GAX) on 400 fresh phantoms for
# both shipped models, with lesion-mask localisation.
# Usage: bench/demo.sh            (from the repository root after `make release`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./target/release/heatmap-explorer}
OUT=${OUT:-target/demo}
GAX_STEPS=${GAX_STEPS:-100}
mkdir -p "$OUT"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores; $($BIN info | grep device)"
echo "## GAX on the samples (models/phantom_squeezenet.json, target CO 48, at most 500 steps, sum)"
for img in assets/samples/*.png; do
  name=$(basename "$img" .png)
  $BIN gax --model models/phantom_squeezenet.json --image "$img" --target-co 48 --max-steps 500 \
    --quiet --out "$OUT/$name.gaxrun" --trace "$OUT/$name.csv"
done
echo "## 400 fresh phantoms (seed 2027), --gax-steps $GAX_STEPS"
rm -rf "$OUT/fresh400"
$BIN phantom --out "$OUT/fresh400" --count 400 --seed 2027
for m in phantom_squeezenet phantom_squeezenet_sub; do
  rm -f "$OUT/$m.csv"
  echo "### $m"
  start=$(date +%s)
  $BIN ax --model "models/$m.json" --data "$OUT/fresh400" --out "$OUT/$m.csv" --gax-steps "$GAX_STEPS" 2>/dev/null
  echo "($(( $(date +%s) - start )) s)"
done

#!/usr/bin/env bash
# Opening the real NEMA chest CR (RG1, 1841×1955, 15 bits stored, MONOCHROME1) and windowing it
# with its VOI: ours (release build, in-process, `bench dicom`) beside pydicom 3.0.2 doing the same
# (bench/dicom_open.py), uncompressed and JPEG 2000 lossless. The goal is under 1 s on the CPU.
# Usage: make release && bench/dicom_open.sh        (N=5 runs each by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./target/release/heatmap-explorer}
PY=${PY:-.venv/bin/python}
N=${N:-5}
DATA=$($PY -c 'import data_store, os; print(os.path.join(os.path.dirname(data_store.__file__), "data"))')
FILES="$DATA/RG1_UNCR.dcm,$DATA/RG1_J2KR.dcm"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m) $(nproc) cores"
$BIN bench dicom --file "$FILES" --steps "$N"
PYTHONWARNINGS=ignore $PY bench/dicom_open.py "$N" ${FILES//,/ }

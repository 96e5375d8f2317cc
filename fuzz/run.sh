#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) from the committed corpus fuzz/corpus/,
# installing cargo-fuzz 0.13.1 when absent. Exits non-zero on any crash, timeout or OOM; the
# input that failed is left under fuzz/artifacts/<target>/. New inputs the fuzzer finds go to a
# scratch folder, so the committed corpus is not changed. Called by .ci/run after `make test`.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
targets=(decode_raster decode_dicom read_card read_runfile read_review)

if ! cargo fuzz --version 2>/dev/null | grep -q ' 0\.13\.1$'; then
  cargo install cargo-fuzz --version 0.13.1 --locked
fi
# cargo-fuzz builds with -Zsanitizer=address; only the stable toolchain is installed here.
export RUSTC_BOOTSTRAP=1
# The fuzz workspace's own Cargo.lock must be up to date (cargo fuzz has no --locked).
cargo metadata --locked --format-version 1 >/dev/null
cargo fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "-- fuzz $t for ${seconds} s"
  if ! cargo fuzz run "$t" "$scratch/$t" "corpus/$t" -- -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    tail -n 80 "$scratch/$t.log"
    echo "fuzz target $t failed: its input is under fuzz/artifacts/$t/"
    exit 1
  fi
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$scratch/$t.log"
done

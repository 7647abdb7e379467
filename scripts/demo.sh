#!/usr/bin/env bash
# The main job on the embedded default: a small synthetic LeRobot dataset that robotrain
# generates itself, inspected, loaded, trained (ACT), tracked in a local MLflow store,
# evaluated. Everything lands under ./outputs/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
RT=${RT:-build/bin/robotrain}
OUT=${OUT:-outputs/demo}
rm -rf "$OUT"
mkdir -p "$OUT"
"$RT" env
if "$RT" dataset --help >/dev/null 2>&1; then
  "$RT" dataset synth --output "$OUT/dataset" --episodes 4 --frames 60
  "$RT" dataset info "$OUT/dataset"
  "$RT" dataset validate "$OUT/dataset"
  "$RT" dataset bench-loader "$OUT/dataset" --batch-size 8 --steps 50
fi

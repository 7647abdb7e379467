#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, as-is: builds robotrain (unless BUILD_DIR already holds a
# build), runs the CUDA-labelled tests, then a short ACT training run on CUDA with AMP, and
# prints the step times. Nothing in CI depends on it; CI has no GPU.
#
#   bash scripts/gpu-check.sh            # everything
#   SKIP_BUILD=1 bash scripts/gpu-check.sh
#
# Needs the torch environment (scripts/install-deps.sh, or ROBOTRAIN_VENV pointing at any venv
# with torch 2.10.x+cu12x) and the Debian build packages; it installs nothing without network.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/paths.sh
BUILD_DIR=${BUILD_DIR:-build}
OUT=${OUT:-outputs/gpu-check}

say() { printf '\n== %s\n' "$*"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU visible (nvidia-smi -L failed); run this on a GPU machine" >&2
  exit 1
fi
say "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

if [ -z "${SKIP_BUILD:-}" ]; then
  if [ ! -x "$ROBOTRAIN_VENV/bin/python" ]; then
    say "installing dependencies (needs network)"
    bash scripts/install-deps.sh
  fi
  say "build"
  bash scripts/build.sh
fi
RT="$BUILD_DIR/bin/robotrain"
"$RT" env

say "CUDA-labelled tests"
(cd "$BUILD_DIR" && ctest -L cuda --output-on-failure --timeout 600)

rm -rf "$OUT"
mkdir -p "$OUT"
say "dataset (4 episodes x 80 frames, one 480x640 camera)"
"$RT" dataset synth --output "$OUT/dataset" --episodes 4 --frames 80 --height 480 --width 640 >/dev/null

# ACT at LeRobot's default size (batch 8), 60 steps: bf16 autocast, then fp16 with loss scaling,
# then float32, each printing its mean update time from the log lines.
run_act() {
  local name=$1; shift
  "$RT" train --dataset.root "$OUT/dataset" --policy.type act --policy.device cuda \
    --policy.pretrained_backbone_weights null --steps 60 --batch_size 8 --log_freq 10 --save_freq 60 \
    --eval_freq 0 --num_workers 4 --output_dir "$OUT/$name" --no-tracking "$@" 2> "$OUT/$name.log" || {
      tail -5 "$OUT/$name.log"; return 1; }
  # Mean updt_s over the logged windows after the first (warm-up, cuDNN autotuning).
  grep -o 'updt_s:[0-9.]*' "$OUT/$name.log" | tail -n +2 | cut -d: -f2 |
    awk -v n="$name" '{s+=$1; c++} END {if (c) printf "%-14s %7.1f ms/step  %6.2f steps/s\n", n, 1000*s/c, c/s}'
}
say "training step times (ACT default, batch 8)"
run_act act-bf16 --mixed-precision bf16
run_act act-fp16 --mixed-precision fp16
run_act act-fp32
if "$RT" train --help 2>&1 | grep -q -- '--cuda_graph'; then
  run_act act-bf16-graph --mixed-precision bf16 --cuda_graph true
fi
# LeRobot 0.5.1's own lerobot-train, eager, on the same GPU, dataset and ACT config (its
# update time per step, from the same kind of log line): the reference for the numbers above.
say "LeRobot 0.5.1 eager on the same GPU (lerobot-train, ACT default, batch 8)"
if "$ROBOTRAIN_VENV/bin/lerobot-train" --dataset.repo_id local/gpu-check --dataset.root "$OUT/dataset" \
    --policy.type act --policy.device cuda --policy.push_to_hub false --policy.pretrained_backbone_weights null \
    --steps 60 --batch_size 8 --log_freq 10 --save_checkpoint false --eval_freq 0 --num_workers 4 \
    --wandb.enable false --output_dir "$OUT/lerobot-act" > "$OUT/lerobot-act.log" 2>&1; then
  grep -o 'updt_s:[0-9.]*' "$OUT/lerobot-act.log" | tail -n +2 | cut -d: -f2 |
    awk '{s+=$1; c++} END {if (c) printf "%-14s %7.1f ms/step  %6.2f steps/s\n", "lerobot-eager", 1000*s/c, c/s}'
else
  echo "lerobot-train did not run (see $OUT/lerobot-act.log):"; tail -3 "$OUT/lerobot-act.log"
fi
echo "logs: $OUT/*.log"

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
"$RT" dataset synth --output "$OUT/dataset" --episodes 4 --frames 60
"$RT" dataset info "$OUT/dataset"
"$RT" dataset validate "$OUT/dataset"
"$RT" dataset bench-loader "$OUT/dataset" --batch-size 8 --steps 50
# A small ACT for a few hundred steps on the synthetic dataset (a few minutes on 2 cores);
# the last line reports the loss drop. Checkpoints in $OUT/train, metrics in $OUT/mlruns.
# The backbone starts from random weights (no ImageNet download: see the README).
"$RT" train --dataset.root "$OUT/dataset" --policy.type act --policy.device cpu \
  --policy.dim_model 64 --policy.n_heads 4 --policy.dim_feedforward 128 --policy.n_encoder_layers 2 \
  --policy.n_vae_encoder_layers 2 --policy.latent_dim 16 --policy.chunk_size 20 --policy.n_action_steps 20 \
  --policy.kl_weight 1 --policy.optimizer_lr 1e-3 --policy.optimizer_lr_backbone 1e-4 --policy.pretrained_backbone_weights null \
  --steps "${DEMO_TRAIN_STEPS:-300}" --batch_size 8 --log_freq 50 --save_freq 150 --eval_freq 100 --num_workers 2 \
  --output_dir "$OUT/train" --tracking-uri "$OUT/mlruns" --job_name demo-act --system-metrics false
# Offline replay of the trained checkpoint on held-out episodes: metrics, plots, HTML report.
"$RT" eval --policy.path "$OUT/train" --dataset.root "$OUT/dataset" --eval-episodes 2 \
  --output_dir "$OUT/eval" --tracking-uri "$OUT/mlruns" --device cpu
echo "report: $OUT/eval/report.html  |  runs: $RT runs list --tracking-uri $OUT/mlruns"

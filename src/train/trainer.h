#pragma once
// `robotrain train`: lerobot-train's offline loop. Seeded, prefetching, LeRobot-shaped log
// lines and checkpoints, MLflow-compatible tracking as the seed system did it, resumable to a
// loss curve identical to an uninterrupted run, and stoppable by SIGTERM/SIGINT without
// losing the last complete checkpoint.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "train/train_config.h"

namespace robotrain::train {

struct TrainOutcome;

struct TrainOptions {
  TrainConfig config;
  // Seed-system settings that name the run rather than change training.
  std::string policy_repo_id;
  std::string register_checkpoint;     // model.register_name tag
  std::string init_from_policy_model;  // warm start: weights only (local directory)
  std::string dataset_source;          // dataset.source tag: local | huggingface | azure-blob | ...
  std::string mixed_precision = "no";  // no | fp16 | bf16 (CUDA autocast)
  int val_max_batches = 16;   // val/loss: mean over at most this many held-out batches
  double dist_timeout_s = 600;  // distributed: rendezvous and every collective give up after this
  bool system_metrics = true;
  bool no_tracking = false;  // a no-op tracker: nothing written to any MLflow store
  bool cuda_graph = false;   // capture the training step as a CUDA graph (train/cuda_graph.h)
  std::optional<bool> log_checkpoints;  // checkpoints as MLflow artifacts; default: remote trackers only
  std::map<std::string, std::string> extra_tags;
  // Rank 0, after each checkpoint is complete (checkpoint directory, its step, the outcome so
  // far with the tracking ids): e.g. registering intermediate checkpoints.
  std::function<void(const std::filesystem::path&, int64_t, const TrainOutcome&)> on_checkpoint;
};

struct TrainOutcome {
  std::filesystem::path output_dir;
  int64_t start_step = 0;
  int64_t step = 0;
  int stop_signal = 0;  // non-zero: stopped by this signal after a final checkpoint
  std::optional<std::filesystem::path> last_checkpoint;
  double first_loss = 0, last_loss = 0;  // averages of the first and last logged windows
  std::string run_id;
  std::string experiment_id;
  std::string artifact_uri;  // where the run's artifacts go (MLflow registry sources point there)
  bool primary = true;  // false on ranks other than 0 of a distributed job (they report nothing)
};

// Fills what the user left open: job name, output directory, device; checks the output
// directory against --resume (InputError, before any heavy work). Ranks other than 0 of a
// distributed job (primary = false) skip the output directory check: rank 0 may already
// have created it.
void resolve_config(TrainConfig& config, bool primary = true);

TrainOutcome run_training(TrainOptions options);

}  // namespace robotrain::train

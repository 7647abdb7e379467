#pragma once
// Offline replay: run a policy step by step on recorded episodes through its real inference
// path (select_action: action queue, chunking, temporal ensembling) and compare its actions
// with the recorded ones. Any policy type.
#include <filesystem>
#include <vector>

#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::eval {

struct ReplayOptions {
  int episodes = 10;
  std::vector<int64_t> episode_indices;  // explicit choice; default: held-out split or last N
  std::filesystem::path output_dir;
  std::string device = "cpu";
  std::string policy_path;               // for the report
};

// Held-out episodes recorded at training time (train_config.json beside pretrained_model),
// else the last `n` episodes of the dataset.
std::vector<int64_t> held_out_episodes(const std::filesystem::path& pretrained_dir, int64_t total_episodes, int n);

// Writes eval_results.json, metrics.json, plots/, predictions/, report.html; returns
// {"aggregate": {...}, "episodes": [...], "metrics": {...}}.
util::Json evaluate_replay(policy::Policy& policy, const std::filesystem::path& dataset_root, const ReplayOptions& options);

}  // namespace robotrain::eval

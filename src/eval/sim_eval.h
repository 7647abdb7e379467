#pragma once
// Closed-loop evaluation on Push-T: several environments stepped in lockstep with batched
// policy inference, deterministic per seed; success rate, average max reward, per-episode
// seeds, rollout videos for the first few episodes, and zero-motion / random baselines
// measured on the same seeds.
#include <cstdint>
#include <filesystem>

#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::eval {

struct SimEvalOptions {
  int episodes = 50;
  uint64_t seed = 0;
  int parallel = 8;        // environments stepped together (one batched inference per step)
  int videos = 2;          // rollout mp4s for the first N episodes
  std::filesystem::path output_dir;
  bool baselines = true;   // also run zero-motion and random-action baselines on the same seeds
  std::string device = "cpu";
};

// `policy` null = the scripted expert. Writes eval_info.json (+ videos/) under output_dir.
util::Json evaluate_pusht(policy::Policy* policy, const SimEvalOptions& options);

}  // namespace robotrain::eval

#pragma once
// LeRobot's pretrained_model/ directory: config.json, model.safetensors (LeRobot key names),
// policy_{pre,post}processor.json + normalizer safetensors. Read and written both ways, so a
// LeRobot user loads what robotrain writes and robotrain loads what LeRobot writes.
#include <filesystem>
#include <memory>

#include "policy/policy.h"
#include "policy/robotrain_json.h"
#include "util/json.h"

namespace robotrain::policy {

// Writes into `dir` (created); each file atomically. robotrain.json gets the policy's
// robotrain_config() and `train_extras` (see policy/robotrain_json.h).
void save_pretrained(Policy& policy, const std::filesystem::path& dir, const util::Json& train_extras = util::Json::object());

// Builds the policy from config.json + normalizer stats, loads the weights and moves it to
// `device`. Missing or mis-shaped keys are a RuntimeError listing them; unexpected keys are
// tolerated (LeRobot loads with strict=False) but logged as a warning.
std::shared_ptr<Policy> load_pretrained(const std::filesystem::path& dir, const torch::Device& device = torch::kCPU);
// Weights only (fine-tuning / warm start): names and shapes must match (as above).
void load_pretrained_weights(Policy& policy, const std::filesystem::path& dir);
// Accepts a pretrained_model dir, a checkpoint step dir, a checkpoints/ dir (newest step,
// `last` first) or a run's output dir; InputError when none holds config.json + model.safetensors.
std::filesystem::path resolve_pretrained_dir(const std::filesystem::path& path);

}  // namespace robotrain::policy

#pragma once
// checkpoints/<step>/training_state/: what a resume needs besides the weights.
//   training_step.json            {"step": N}
//   optimizer_state.safetensors   see optim.h
//   optimizer_param_groups.json
//   scheduler_state.json          only with a scheduler (Diffusion)
//   rng_state.safetensors         torch_rng_state (+ torch_cuda_rng_state), plus Python- and
//                                 numpy-shaped MT19937 states so LeRobot can load the file
//   robotrain_state.json          robotrain's own: loader position, tracking run
#include <torch/torch.h>

#include <filesystem>
#include <optional>

#include "train/optim.h"
#include "util/json.h"

namespace robotrain::train {

NamedTensors capture_rng_state(uint64_t seed);
void restore_rng_state(const std::map<std::string, torch::Tensor>& state);

struct TrainingState {
  int64_t step = 0;
  util::Json robotrain = util::Json::object();  // {"samples_consumed", "tracking": {...}}
};

void save_training_state(const std::filesystem::path& dir, const TrainingState& state, const Optimizer& optimizer,
                         const LrScheduler* scheduler, uint64_t seed);
// Restores optimizer, scheduler and the global RNGs; returns the step and robotrain's state.
TrainingState load_training_state(const std::filesystem::path& dir, Optimizer& optimizer, LrScheduler* scheduler);

}  // namespace robotrain::train

#pragma once
// Optimizer and LR-scheduler settings in LeRobot's terms (AdamConfig / AdamWConfig,
// DiffuserSchedulerConfig): what a policy's training preset gives (Policy::optimizer_preset)
// and what train_config.json's optimizer / scheduler sections hold. One type for both, so a
// preset becomes the run's configuration as it is.
#include <cstdint>
#include <optional>
#include <string>

namespace robotrain::policy {

struct OptimizerConfig {
  std::string type = "adamw";  // "adam" | "adamw"
  double lr = 1e-5;
  double weight_decay = 1e-4;
  double grad_clip_norm = 10.0;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
};

struct SchedulerConfig {
  std::string type;             // "" = none, "diffuser"
  std::string name = "cosine";  // diffusers schedule name
  int64_t num_warmup_steps = 0;
};

// LeRobot's get_optimizer_preset() / get_scheduler_preset() of a policy config.
struct OptimizerPreset {
  OptimizerConfig optimizer;
  std::optional<SchedulerConfig> scheduler;  // none: a constant learning rate
};

}  // namespace robotrain::policy

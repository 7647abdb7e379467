#pragma once
// Optimizer, LR scheduler and gradient clipping as lerobot-train uses them, with their state
// in LeRobot's checkpoint shape:
//   optimizer_state.safetensors  "state/<param_id>/exp_avg", ".../exp_avg_sq", ".../step"
//   optimizer_param_groups.json  [{lr, betas, eps, weight_decay, ..., params: [ids]}, ...]
//   scheduler_state.json         LambdaLR.state_dict()
// Param ids count through the groups in order, as torch.optim.Optimizer.state_dict() does.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policy/policy.h"
#include "train/train_config.h"
#include "util/json.h"

namespace robotrain::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// LeRobot's choice when the policy preset is used: AdamW/Adam with the policy's groups.
OptimizerConfig optimizer_config_from_preset(const policy::OptimizerPreset& preset);
std::optional<SchedulerConfig> scheduler_config_from_preset(const policy::OptimizerPreset& preset);

class Optimizer {
 public:
  // Groups keep their own lr / weight decay; the config supplies betas, eps and the type.
  Optimizer(const OptimizerConfig& config, const std::vector<policy::ParamGroup>& groups);
  void zero_grad();
  void step();
  size_t num_groups() const;
  double lr(size_t group = 0) const;
  void set_lr(size_t group, double lr);
  double initial_lr(size_t group) const { return initial_lrs_.at(group); }
  const std::vector<torch::Tensor>& parameters() const { return all_params_; }

  NamedTensors state_tensors() const;
  // `with_initial_lr`: a scheduler is attached (torch adds "initial_lr" to each group then).
  util::Json param_groups_json(bool with_initial_lr) const;
  // Restores from what state_tensors/param_groups_json produced (or LeRobot wrote).
  // RuntimeError naming the file on a mismatch in group count, param count or shapes.
  void load(const std::map<std::string, torch::Tensor>& state, const util::Json& param_groups);

 private:
  OptimizerConfig config_;
  std::unique_ptr<torch::optim::Optimizer> impl_;
  std::vector<torch::Tensor> all_params_;
  std::vector<double> initial_lrs_;
  std::vector<double> group_weight_decay_;
};

// Clips the global L2 norm of all gradients to max_norm (no-op when max_norm <= 0) and
// returns the norm measured before clipping (lerobot-train's grad_norm).
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

// torch.optim.lr_scheduler.LambdaLR with diffusers' schedules ("cosine", "constant",
// "linear", "constant_with_warmup"): lr = initial_lr * factor(last_epoch), stepped every step.
class LrScheduler {
 public:
  LrScheduler(const SchedulerConfig& config, int64_t num_training_steps, Optimizer& optimizer);
  double factor(int64_t step) const;
  void step();  // after optimizer.step()
  int64_t last_epoch() const { return last_epoch_; }
  util::Json state_json() const;
  void load(const util::Json& state);  // RuntimeError on a malformed state

 private:
  void apply();
  SchedulerConfig config_;
  int64_t total_;
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = 0;
};

}  // namespace robotrain::train

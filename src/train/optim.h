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


class Optimizer {
 public:
  // Groups keep their own lr / weight decay; the config supplies betas, eps and the type.
  Optimizer(const OptimizerConfig& config, const std::vector<policy::ParamGroup>& groups);
  void zero_grad();
  // One update of every parameter that has a gradient. By default through LibTorch's fused
  // Adam/AdamW kernels (one pass over parameter, gradient and both moments per tensor, no
  // temporaries; torch.optim's fused=True): the same update as torch.optim's default
  // single-tensor loop up to float rounding, and 3-6x faster on CPU than LibTorch's
  // torch::optim loop of eight tensor ops per parameter.
  void step();
  // false: torch::optim's per-parameter loop instead (benchmarks compare the two).
  void set_fused(bool fused) { fused_ = fused; }
  bool fused() const { return fused_; }
  // For a step captured as a CUDA graph: each group's learning rate lives in a tensor on
  // `device` (set_lr rewrites it; a captured step reads it at every replay instead of the value
  // it was captured with). Fused path only.
  void use_device_lr(const torch::Device& device);
  // A captured step replayed: the parameters' step counts advanced on the device without this
  // host code running; keeps the host's counts (what checkpoints record) in step with them.
  void count_replayed_step();
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
  bool fused_ = true;
  // The fused kernels read the step count from a tensor on the parameter's device; kept
  // beside torch::optim's own (host) count, which the checkpoint files are written from.
  struct StepTensor {
    torch::Tensor count;
    int64_t host_step = -1;
  };
  std::map<void*, StepTensor> step_tensors_;
  std::vector<torch::Tensor> device_lrs_;  // per group, with use_device_lr
  void fused_step();
  bool fused_kernels_take_all() const;
  // The step count the fused kernels read, on p's device, for host step `step`.
  torch::Tensor device_step_count(const torch::Tensor& p, int64_t step);
};

// Clips the global L2 norm of all gradients to max_norm (no-op when max_norm <= 0) and
// returns the norm measured before clipping (lerobot-train's grad_norm).
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);
// The same without reading the norm back to the host (a 0-dim tensor on the gradients'
// device): no device synchronisation, so it can run inside a captured CUDA graph.
torch::Tensor clip_grad_norm_tensor(const std::vector<torch::Tensor>& params, double max_norm);

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

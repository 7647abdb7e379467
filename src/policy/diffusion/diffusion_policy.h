#pragma once
// LeRobot 0.5's DiffusionPolicy behind the Policy contract: raw batches in, normalisation
// (MIN_MAX state/action, MEAN_STD cameras, ENV untouched) done here, observation and action
// queues for select_action, and an optional EMA copy of the weights (robotrain extension).
#include <deque>
#include <memory>

#include "policy/diffusion/config.h"
#include "policy/diffusion/model.h"
#include "policy/policy.h"

namespace robotrain::policy::diffusion {

// Dataset statistics per feature key: {"mean", "std", "min", "max", ...} -> tensor.
using FeatureStats = std::map<std::string, std::map<std::string, torch::Tensor>>;

class DiffusionPolicy : public Policy {
 public:
  // Validates the config (InputError) and builds the model; stats for every normalised feature.
  DiffusionPolicy(DiffusionConfig config, FeatureStats stats);

  std::string type() const override { return "diffusion"; }
  std::map<std::string, std::vector<int>> delta_indices() const override;
  int drop_n_last_frames() const override { return cfg_.drop_n_last_frames; }
  LossOutput forward_loss(const TensorMap& batch) override;
  // Observation without time dim: state (B, D), cameras (B, C, H, W). Queues n_obs_steps
  // observations (the first one repeated), samples horizon actions when the action queue is
  // empty and returns the next of n_action_steps queued actions (B, A), un-normalised.
  torch::Tensor select_action(const TensorMap& observation) override;
  // (B, n_action_steps, A) un-normalised. Observation either with the time dim
  // (B, n_obs_steps, ...) used as is, or without: then it goes through the observation queue.
  torch::Tensor predict_action_chunk(const TensorMap& observation) override;
  void reset() override;
  util::Json config_json() const override { return cfg_.to_json(); }
  util::Json robotrain_config() const override { return cfg_.robotrain_json(); }
  std::vector<ParamGroup> param_groups() override;
  OptimizerPreset optimizer_preset() const override;
  std::vector<std::pair<std::string, torch::Tensor>> lerobot_state_dict() override;
  std::map<std::string, std::map<std::string, torch::Tensor>> normalization_stats() const override { return stats_; }
  void load_pretrained_backbone() override;

  const DiffusionConfig& config() const { return cfg_; }
  DiffusionModel& model() { return diffusion_; }
  const FeatureStats& stats() const { return stats_; }
  // Fixed initial noise for the next sampling (tests, reproducible evaluation).
  void set_next_noise(torch::Tensor noise) { next_noise_ = std::move(noise); }

  // ---- EMA (config.use_ema) ----
  bool has_ema() const { return static_cast<bool>(ema_); }
  // After every optimizer step: ema = d·ema + (1 - d)·w with d = min(1 - (1 + step)^-power,
  // max_decay) (0 at step 0), as the original Diffusion Policy's EMAModel.
  void ema_update(int64_t step);
  void after_optimizer_step(int64_t step) override {
    if (has_ema()) ema_update(step);
  }
  double ema_decay(int64_t step) const;
  // Same key names as lerobot_state_dict(); robotrain saves them as "ema.safetensors" next to
  // model.safetensors. Empty without EMA.
  std::vector<std::pair<std::string, torch::Tensor>> ema_state_dict();
  std::map<std::string, std::vector<std::pair<std::string, torch::Tensor>>> extra_weight_files() override;
  // Inference (select_action / predict_action_chunk) uses the EMA weights when present.

 private:
  torch::Tensor normalize(const std::string& key, FeatureType type, const torch::Tensor& x) const;
  torch::Tensor unnormalize_action(const torch::Tensor& x) const;
  const char* mode_for(FeatureType type) const;
  Observations normalized_observations(const TensorMap& batch, bool with_time) const;
  void push_observation(const TensorMap& observation);
  torch::Tensor sample_from_queue();
  // One un-normalised action chunk from the inference weights in eval mode, with the noise
  // set_next_noise queued; the model's training mode is restored after.
  torch::Tensor generate_actions(const Observations& obs);
  DiffusionModel& inference_model() { return ema_ ? ema_ : diffusion_; }

  DiffusionConfig cfg_;
  FeatureStats stats_;
  DiffusionModel diffusion_{nullptr};
  DiffusionModel ema_{nullptr};  // not registered: no gradients, not in parameters()
  std::deque<Observations> obs_queue_;
  std::deque<torch::Tensor> action_queue_;  // each (B, A), un-normalised
  torch::Tensor next_noise_;
};

}  // namespace robotrain::policy::diffusion

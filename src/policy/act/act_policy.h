#pragma once
// LeRobot 0.5's ACTPolicy behind the Policy contract: raw batches in, MEAN_STD normalisation
// here, masked L1 + KL loss, action queue or temporal ensembling at inference.
#include <deque>
#include <optional>

#include "policy/act/act_model.h"
#include "policy/act/config.h"
#include "policy/normalizer.h"
#include "policy/policy.h"

namespace robotrain::policy::act {

// LeRobot's ACTTemporalEnsembler: exponentially weighted average of overlapping chunks.
class TemporalEnsembler {
 public:
  TemporalEnsembler(double coeff, int chunk_size);
  void reset();
  torch::Tensor update(const torch::Tensor& actions);  // (B, chunk, A) -> (B, A)

 private:
  torch::Tensor weights_, weights_cumsum_, ensembled_, count_;
};

class ActPolicy : public Policy {
 public:
  ActPolicy(ActConfig config, StatsTensors stats);

  std::string type() const override { return "act"; }
  std::map<std::string, std::vector<int>> delta_indices() const override;
  LossOutput forward_loss(const TensorMap& batch) override;
  torch::Tensor select_action(const TensorMap& observation) override;
  torch::Tensor predict_action_chunk(const TensorMap& observation) override;
  void reset() override;
  util::Json config_json() const override { return cfg_.to_json(); }
  std::vector<ParamGroup> param_groups() override;
  OptimizerPreset optimizer_preset() const override;
  std::vector<std::pair<std::string, torch::Tensor>> lerobot_state_dict() override;
  StatsTensors normalization_stats() const override { return normalizer_.stats(); }
  void load_pretrained_backbone() override;

  const ActConfig& config() const { return cfg_; }
  const Normalizer& normalizer() const { return normalizer_; }
  ActModel& model() { return model_; }

 private:
  ActInputs normalized_inputs(const TensorMap& batch, bool with_actions) const;

  ActConfig cfg_;
  Normalizer normalizer_;
  ActModel model_{nullptr};
  std::deque<torch::Tensor> queue_;
  std::optional<TemporalEnsembler> ensembler_;
};

}  // namespace robotrain::policy::act

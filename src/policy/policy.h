#pragma once
// The interface every policy (ACT, Diffusion) implements for the training loop, evaluation
// and checkpointing. Batches are raw (unnormalised) tensors keyed by LeRobot feature names;
// the policy normalises inputs and un-normalises outputs itself (LeRobot 0.5 does this in
// its processors; the normaliser state is saved the same way, see policy/normalizer.h).
#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/optimizer_settings.h"
#include "util/json.h"

namespace robotrain::policy {

using TensorMap = std::map<std::string, torch::Tensor>;

enum class FeatureType { Visual, State, Env, Action };
const char* feature_type_name(FeatureType t);  // "VISUAL", "STATE", "ENV", "ACTION"

struct PolicyFeature {
  std::string key;
  FeatureType type;
  std::vector<int64_t> shape;  // cameras CHW
};

struct LossOutput {
  torch::Tensor loss;                          // scalar, requires grad in training
  // e.g. {"l1_loss": .., "kld_loss": ..}: detached 0-dim tensors on the loss's device, read by
  // the caller when it logs them (a read is a device synchronisation: none inside the step).
  std::map<std::string, torch::Tensor> parts;
};

// LeRobot's get_optim_params(): a group without its own lr / weight_decay takes the
// optimizer's (which the policy preset sets, or --optimizer.* when the preset is off).
struct ParamGroup {
  std::string name;                      // "default", "backbone"
  std::vector<torch::Tensor> params;
  std::optional<double> lr{};
  std::optional<double> weight_decay{};
};


// The random draws of one training step, supplied from outside instead of the default
// generator (tests that hold robotrain and LeRobot to the same step feed both the same
// tensors). ACT: latent_eps (B, latent_dim), the ε of the VAE's reparameterised sample.
// Diffusion: noise (B, horizon, A) and timesteps (B,) int64. Undefined ones are drawn as usual.
struct TrainingDraws {
  torch::Tensor latent_eps, noise, timesteps;
};

class Policy : public torch::nn::Module {
 public:
  virtual ~Policy() = default;
  virtual std::string type() const = 0;  // "act" | "diffusion"
  // Frame offsets per dataset key the sampler must provide (LeRobot's delta_indices);
  // keys absent here are loaded at the anchor frame only, without a time dimension.
  virtual std::map<std::string, std::vector<int>> delta_indices() const = 0;
  virtual int drop_n_last_frames() const { return 0; }
  // Training loss on a raw batch (what the loader produced, moved to the device).
  virtual LossOutput forward_loss(const TensorMap& batch) = 0;
  // Inference on raw observations (batch dim first); returns un-normalised actions (B, A).
  virtual torch::Tensor select_action(const TensorMap& observation) = 0;
  // (B, n_action_steps or chunk, A), un-normalised.
  virtual torch::Tensor predict_action_chunk(const TensorMap& observation) = 0;
  // Clears action queues / ensembling state (start of an episode).
  virtual void reset() = 0;
  // LeRobot config.json contents (type first, then the documented field order).
  virtual util::Json config_json() const = 0;
  // Config fields LeRobot has no place for (its draccus parser rejects unknown fields):
  // saved in robotrain.json beside config.json and merged back on load. Empty by default.
  virtual util::Json robotrain_config() const { return util::Json::object(); }
  virtual std::vector<ParamGroup> param_groups() = 0;
  virtual OptimizerPreset optimizer_preset() const = 0;
  // State dict with LeRobot key names (parameters + persistent buffers).
  virtual std::vector<std::pair<std::string, torch::Tensor>> lerobot_state_dict() = 0;
  // Dataset statistics the policy normalises with: feature -> stat -> tensor (saved as
  // LeRobot's processor files next to the weights).
  virtual std::map<std::string, std::map<std::string, torch::Tensor>> normalization_stats() const { return {}; }
  // Weights LeRobot does not know (diffusion's EMA): file name -> tensors with the same key
  // names as lerobot_state_dict(), saved next to model.safetensors. When the file is missing
  // on load they start at the model's weights.
  virtual std::map<std::string, std::vector<std::pair<std::string, torch::Tensor>>> extra_weight_files() { return {}; }
  // Starts the vision backbone from the pretrained weights its config names
  // (pretrained_backbone_weights, see policy/backbone_weights.h), for training from scratch
  // only: a pretrained or resumed policy gets every weight from its checkpoint. Afterwards
  // config_json() records what LeRobot can load.
  virtual void load_pretrained_backbone() {}
  // Called by the trainer after every optimizer step that updated the weights (not after one an
  // fp16 overflow skipped); `step` counts from 0. Diffusion keeps its EMA of the weights here.
  virtual void after_optimizer_step(int64_t /*step*/) {}
  // Used (then forgotten) by the next forward_loss(); see TrainingDraws.
  void set_next_training_draws(TrainingDraws draws) { next_draws_ = std::move(draws); }

 protected:
  TrainingDraws take_training_draws() { return std::exchange(next_draws_, TrainingDraws{}); }

 private:
  TrainingDraws next_draws_;
};

}  // namespace robotrain::policy

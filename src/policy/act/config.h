#pragma once
// LeRobot 0.5's ACTConfig: every field with its LeRobot name and default; config.json I/O and
// range checks come from one table of the fields (config.cpp, policy/config_table.h).
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::policy::act {

struct ActConfig {
  static constexpr const char* kType = "act";
  // PreTrainedConfig's fields.
  int n_obs_steps = 1;
  std::vector<PolicyFeature> input_features;
  std::vector<PolicyFeature> output_features;
  std::string device;  // "" = cuda when available
  bool use_amp = false;
  bool use_peft = false;
  bool push_to_hub = false;
  std::optional<std::string> repo_id;
  std::optional<bool> private_;  // "private"
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> license;
  std::optional<std::string> pretrained_path;

  // ACTConfig's fields, declaration order (each is one row of the table in config.cpp).
  int chunk_size = 100;
  int n_action_steps = 100;
  std::vector<std::pair<std::string, std::string>> normalization_mapping = {
      {"VISUAL", "MEAN_STD"}, {"STATE", "MEAN_STD"}, {"ACTION", "MEAN_STD"}};
  std::string vision_backbone = "resnet18";
  // LeRobot names torchvision weights here; robotrain reads a local safetensors file path
  // (torchvision key names) and never downloads: any other value means random init.
  std::optional<std::string> pretrained_backbone_weights = "ResNet18_Weights.IMAGENET1K_V1";
  bool replace_final_stride_with_dilation = false;
  bool pre_norm = false;
  int dim_model = 512;
  int n_heads = 8;
  int dim_feedforward = 3200;
  std::string feedforward_activation = "relu";
  int n_encoder_layers = 4;
  int n_decoder_layers = 1;
  bool use_vae = true;
  int latent_dim = 32;
  int n_vae_encoder_layers = 4;
  std::optional<double> temporal_ensemble_coeff;
  double dropout = 0.1;
  double kl_weight = 10.0;
  double optimizer_lr = 1e-5;
  double optimizer_weight_decay = 1e-4;
  double optimizer_lr_backbone = 1e-5;

  // InputError on inconsistent settings (as LeRobot's __post_init__ / validate_features).
  void validate() const;
  util::Json to_json() const;
  // Unknown fields are an InputError (as with draccus).
  static ActConfig from_json(const util::Json& j);

  std::vector<PolicyFeature> image_features() const;
  const PolicyFeature* state_feature() const;
  const PolicyFeature* env_state_feature() const;
  const PolicyFeature& action_feature() const;
};

}  // namespace robotrain::policy::act

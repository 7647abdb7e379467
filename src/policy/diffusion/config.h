#pragma once
// LeRobot 0.5's DiffusionConfig: every field name and default; config.json I/O (draccus'
// order: base PreTrainedConfig fields first) and range checks come from one table of the
// fields (config.cpp, policy/config_table.h).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::policy::diffusion {

struct DiffusionConfig {
  static constexpr const char* kType = "diffusion";
  // PreTrainedConfig (base) fields.
  int n_obs_steps = 2;
  std::vector<PolicyFeature> input_features;   // dataset order
  std::vector<PolicyFeature> output_features;  // "action"
  std::string device = "cpu";
  bool use_amp = false;
  bool use_peft = false;
  bool push_to_hub = true;
  std::optional<std::string> repo_id;
  std::optional<bool> private_;  // "private"
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> license;
  std::optional<std::string> pretrained_path;

  // DiffusionConfig fields, declaration order.
  int horizon = 16;
  int n_action_steps = 8;
  std::vector<std::pair<std::string, std::string>> normalization_mapping = {
      {"VISUAL", "MEAN_STD"}, {"STATE", "MIN_MAX"}, {"ACTION", "MIN_MAX"}};
  int drop_n_last_frames = 7;  // horizon - n_action_steps - n_obs_steps + 1
  std::string vision_backbone = "resnet18";
  std::optional<std::array<int64_t, 2>> resize_shape;
  double crop_ratio = 1.0;
  std::optional<std::array<int64_t, 2>> crop_shape;
  bool crop_is_random = true;
  std::optional<std::string> pretrained_backbone_weights;
  bool use_group_norm = true;
  int spatial_softmax_num_keypoints = 32;
  bool use_separate_rgb_encoder_per_camera = false;
  std::vector<int64_t> down_dims = {512, 1024, 2048};
  int kernel_size = 5;
  int n_groups = 8;
  int diffusion_step_embed_dim = 128;
  bool use_film_scale_modulation = true;
  std::string noise_scheduler_type = "DDPM";
  int num_train_timesteps = 100;
  std::string beta_schedule = "squaredcos_cap_v2";
  double beta_start = 1e-4;
  double beta_end = 0.02;
  std::string prediction_type = "epsilon";
  bool clip_sample = true;
  double clip_sample_range = 1.0;
  std::optional<int> num_inference_steps;  // null = num_train_timesteps
  bool compile_model = false;              // accepted for compatibility; no effect here
  std::string compile_mode = "reduce-overhead";
  bool do_mask_loss_for_padding = false;
  double optimizer_lr = 1e-4;
  std::array<double, 2> optimizer_betas = {0.95, 0.999};
  double optimizer_eps = 1e-8;
  double optimizer_weight_decay = 1e-6;
  std::string scheduler_name = "cosine";
  int scheduler_warmup_steps = 500;

  // robotrain-only (not in LeRobot's config.json, which rejects unknown fields): an EMA of
  // the weights as in the original Diffusion Policy. robotrain_json() holds them for the
  // robotrain.json beside config.json; from_json() takes them back merged in.
  bool use_ema = false;
  double ema_power = 0.75;      // decay = 1 - (1 + step)^-power, capped at ema_max_decay
  double ema_max_decay = 0.9999;

  // LeRobot's __post_init__ + validate_features: derives crop_shape from resize_shape and
  // crop_ratio, then throws util::InputError naming the field and the fix.
  void validate();

  // Features by role (input_features order).
  std::vector<PolicyFeature> image_features() const;
  const PolicyFeature* state_feature() const;      // "observation.state"
  const PolicyFeature* env_state_feature() const;  // "observation.environment_state"
  const PolicyFeature& action_feature() const;     // first output feature
  int effective_num_inference_steps() const {
    return num_inference_steps ? *num_inference_steps : num_train_timesteps;
  }
  std::vector<int> observation_delta_indices() const;  // 1 - n_obs_steps .. 0
  std::vector<int> action_delta_indices() const;       // 1 - n_obs_steps .. horizon - n_obs_steps

  util::Json to_json() const;         // LeRobot's fields only
  util::Json robotrain_json() const;  // {"use_ema", "ema_power", "ema_max_decay"} when use_ema, else {}
  // Reads a config.json (unknown fields are an InputError, as with draccus); validates.
  static DiffusionConfig from_json(const util::Json& j);
};

FeatureType parse_feature_type(const std::string& name);  // InputError on unknown names

}  // namespace robotrain::policy::diffusion

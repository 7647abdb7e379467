#include "policy/diffusion/config.h"

#include "policy/config_table.h"
#include "policy/features.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::diffusion {

using util::cat;
using util::InputError;
using util::Json;

FeatureType parse_feature_type(const std::string& name) { return parse_feature_type_name(name); }

namespace {

// Every field of config.json in LeRobot's order, then robotrain's EMA settings, with what each
// number may hold. LeRobot checks few of the ranges; out of range they divide by zero,
// allocate without bound or fail deep inside the model with a shape error.
const auto& table() {
  using C = DiffusionConfig;
  static const auto rows = std::tuple_cat(
      pretrained_config_rows<C>(Range{1, 100}),
      std::make_tuple(
          field("horizon", &C::horizon, {1, 1024}),
          field("n_action_steps", &C::n_action_steps, {1, 1024}),
          normalization_mapping_row<C>(),
          field("drop_n_last_frames", &C::drop_n_last_frames, {0, 1024}),
          field("vision_backbone", &C::vision_backbone),
          field("resize_shape", &C::resize_shape, {1, 8192}),
          field("crop_ratio", &C::crop_ratio, {0, 1, true}),
          field("crop_shape", &C::crop_shape, {1, 8192}),
          field("crop_is_random", &C::crop_is_random),
          field("pretrained_backbone_weights", &C::pretrained_backbone_weights),
          field("use_group_norm", &C::use_group_norm),
          field("spatial_softmax_num_keypoints", &C::spatial_softmax_num_keypoints, {1, 4096}),
          field("use_separate_rgb_encoder_per_camera", &C::use_separate_rgb_encoder_per_camera),
          field("down_dims", &C::down_dims, {1, 16384}),
          field("kernel_size", &C::kernel_size, {1, 31}),
          field("n_groups", &C::n_groups, {1, 4096}),
          field("diffusion_step_embed_dim", &C::diffusion_step_embed_dim, {4, 8192}),
          field("use_film_scale_modulation", &C::use_film_scale_modulation),
          field("noise_scheduler_type", &C::noise_scheduler_type),
          field("num_train_timesteps", &C::num_train_timesteps, {1, 100000}),
          field("beta_schedule", &C::beta_schedule),
          field("beta_start", &C::beta_start, {0, 1, true, true}),
          field("beta_end", &C::beta_end, {0, 1, true, true}),
          field("prediction_type", &C::prediction_type),
          field("clip_sample", &C::clip_sample),
          field("clip_sample_range", &C::clip_sample_range, {0, 1e6, true}),
          field("num_inference_steps", &C::num_inference_steps, {1, 100000}),
          field("compile_model", &C::compile_model),
          field("compile_mode", &C::compile_mode),
          field("do_mask_loss_for_padding", &C::do_mask_loss_for_padding),
          field("optimizer_lr", &C::optimizer_lr, {0, 10}),  // 0 freezes: a weights-only check
          field("optimizer_betas", &C::optimizer_betas, {0, 1, false, true}),
          field("optimizer_eps", &C::optimizer_eps, {0, 1, true}),
          field("optimizer_weight_decay", &C::optimizer_weight_decay, {0, 10}),
          field("scheduler_name", &C::scheduler_name),
          field("scheduler_warmup_steps", &C::scheduler_warmup_steps, {0, 1e9}),
          // LeRobot 0.6 adds these; neither changes the weights or sampling (a Hub revision for
          // pretrained_path, activation checkpointing to save memory), so 0.6 checkpoints load.
          accepted<C>("pretrained_revision"), accepted<C>("gradient_checkpointing"),
          // How checkpoints before robotrain.json stored the EMA settings.
          CustomField<C>{"robotrain_ema", nullptr,
                         [](const Json& e, const char* policy, C& c) {
                           if (e.is_null()) return;
                           if (!e.is_object()) throw_field_type(policy, "robotrain_ema", "an object", e);
                           c.use_ema = true;
                           read_field(e, policy, "power", c.ema_power);
                           read_field(e, policy, "max_decay", c.ema_max_decay);
                         }},
          robotrain_only(field("use_ema", &C::use_ema)),
          robotrain_only(field("ema_power", &C::ema_power, {0, 100, true})),
          robotrain_only(field("ema_max_decay", &C::ema_max_decay, {0, 1, false, true}))));
  static const auto t = make_table<C>("diffusion", rows);
  return t;
}

// What one field's range cannot say.
void check_field_rules(const DiffusionConfig& c) {
  // Even, so the sinusoidal step embedding (two halves of dim/2 frequencies) has the width asked.
  if (c.diffusion_step_embed_dim % 2)
    throw InputError(cat("diffusion: diffusion_step_embed_dim must be even, got ", c.diffusion_step_embed_dim));
  // Odd, so the 1-D convolutions (padding kernel_size / 2) keep the horizon's length.
  if (c.kernel_size % 2 == 0) throw InputError(cat("diffusion: kernel_size must be odd, got ", c.kernel_size));
  if (c.beta_schedule == "linear" && !(c.beta_start < c.beta_end))
    throw InputError(cat("diffusion: beta_start (", c.beta_start, ") must be below beta_end (", c.beta_end, ")"));
  if (c.down_dims.empty() || c.down_dims.size() > 8)
    throw InputError(cat("diffusion: down_dims must have 1 to 8 entries, got ", c.down_dims.size()));
}

}  // namespace

void DiffusionConfig::validate() {
  table().check(*this);
  check_field_rules(*this);
  if (use_ema && !(ema_power > 0))
    throw InputError(cat("diffusion: ema_power must be positive, got ", ema_power));
  if (use_ema && !(ema_max_decay >= 0 && ema_max_decay < 1))
    throw InputError(cat("diffusion: ema_max_decay must be in [0, 1), got ", ema_max_decay));
  if (!util::starts_with(vision_backbone, "resnet"))
    throw InputError(cat("diffusion: vision_backbone must be a ResNet variant, got '", vision_backbone, "'"));
  if (vision_backbone != "resnet18")
    throw InputError(cat("diffusion: only vision_backbone=resnet18 is implemented, got '", vision_backbone, "'"));
  if (prediction_type != "epsilon" && prediction_type != "sample")
    throw InputError(cat("diffusion: prediction_type must be 'epsilon' or 'sample', got '", prediction_type, "'"));
  if (noise_scheduler_type != "DDPM" && noise_scheduler_type != "DDIM")
    throw InputError(cat("diffusion: noise_scheduler_type must be DDPM or DDIM, got '", noise_scheduler_type, "'"));
  if (beta_schedule != "squaredcos_cap_v2" && beta_schedule != "linear")
    throw InputError(cat("diffusion: beta_schedule must be squaredcos_cap_v2 or linear, got '", beta_schedule, "'"));
  if (!(crop_ratio > 0 && crop_ratio <= 1.0))
    throw InputError(cat("diffusion: crop_ratio must be in (0, 1], got ", crop_ratio));
  if (resize_shape) {
    // LeRobot derives crop_shape from the resize when crop_ratio < 1 and disables it otherwise.
    if (crop_ratio < 1.0)
      crop_shape = std::array<int64_t, 2>{static_cast<int64_t>((*resize_shape)[0] * crop_ratio),
                                          static_cast<int64_t>((*resize_shape)[1] * crop_ratio)};
    else
      crop_shape.reset();
  }
  if (crop_shape && ((*crop_shape)[0] <= 0 || (*crop_shape)[1] <= 0))
    throw InputError("diffusion: crop_shape must have positive dimensions");
  const int64_t factor = int64_t{1} << down_dims.size();
  if (horizon % factor != 0)
    throw InputError(cat("diffusion: horizon (", horizon, ") must be a multiple of 2^len(down_dims) = ", factor,
                         " (down_dims has ", down_dims.size(), " entries); set --policy.horizon to a multiple of ",
                         factor, " or use fewer down_dims"));
  if (n_obs_steps < 1) throw InputError("diffusion: n_obs_steps must be >= 1");
  if (n_action_steps < 1 || n_action_steps > horizon - n_obs_steps + 1)
    throw InputError(cat("diffusion: n_action_steps (", n_action_steps, ") must be in [1, horizon - n_obs_steps + 1 = ",
                         horizon - n_obs_steps + 1, "]"));
  if (num_inference_steps && (*num_inference_steps < 1 || *num_inference_steps > num_train_timesteps))
    throw InputError(cat("diffusion: num_inference_steps must be in [1, num_train_timesteps = ", num_train_timesteps, "]"));
  for (int64_t d : down_dims)
    if (n_groups < 1 || d % n_groups != 0)
      throw InputError(cat("diffusion: every down_dims entry must be divisible by n_groups (", n_groups, "), got ", d));
  // LeRobot's final Conv1dBlock keeps its default of 8 groups whatever n_groups says.
  if (down_dims[0] % 8 != 0)
    throw InputError(cat("diffusion: down_dims[0] must be divisible by 8 (final block's GroupNorm), got ", down_dims[0]));
  if (use_group_norm && pretrained_backbone_weights)
    throw InputError("diffusion: use_group_norm would replace the pretrained backbone's batch norms; "
                     "set --policy.use_group_norm false with pretrained_backbone_weights");

  if (output_features.empty()) return;  // features not attached yet (config-only use)
  if (!state_feature())
    throw InputError("diffusion: the dataset must provide 'observation.state'");
  auto images = image_features();
  if (images.empty() && !env_state_feature())
    throw InputError("diffusion: needs at least one camera or observation.environment_state among the inputs");
  for (const auto& img : images) {
    if (img.shape.size() != 3) throw InputError(cat("diffusion: camera '", img.key, "' must have a CHW shape"));
    if (img.shape != images.front().shape)
      throw InputError(cat("diffusion: camera '", img.key, "' shape differs from '", images.front().key,
                           "'; all cameras must have the same shape"));
    if (!resize_shape && crop_shape && ((*crop_shape)[0] > img.shape[1] || (*crop_shape)[1] > img.shape[2]))
      throw InputError(cat("diffusion: crop_shape [", (*crop_shape)[0], ", ", (*crop_shape)[1],
                           "] does not fit camera '", img.key, "' of shape [", img.shape[0], ", ", img.shape[1], ", ",
                           img.shape[2], "]"));
  }
}

std::vector<PolicyFeature> DiffusionConfig::image_features() const {
  std::vector<PolicyFeature> out;
  for (const auto& f : input_features)
    if (f.type == FeatureType::Visual) out.push_back(f);
  return out;
}

const PolicyFeature* DiffusionConfig::state_feature() const {
  for (const auto& f : input_features)
    if (f.type == FeatureType::State && f.key == "observation.state") return &f;
  return nullptr;
}

const PolicyFeature* DiffusionConfig::env_state_feature() const {
  for (const auto& f : input_features)
    if (f.type == FeatureType::Env) return &f;
  return nullptr;
}

const PolicyFeature& DiffusionConfig::action_feature() const {
  for (const auto& f : output_features)
    if (f.type == FeatureType::Action) return f;
  throw InputError("diffusion: no ACTION output feature (the dataset needs an 'action' column)");
}

std::vector<int> DiffusionConfig::observation_delta_indices() const {
  std::vector<int> out;
  for (int i = 1 - n_obs_steps; i <= 0; ++i) out.push_back(i);
  return out;
}

std::vector<int> DiffusionConfig::action_delta_indices() const {
  std::vector<int> out;
  for (int i = 1 - n_obs_steps; i < 1 - n_obs_steps + horizon; ++i) out.push_back(i);
  return out;
}

Json DiffusionConfig::to_json() const { return table().write(*this); }

Json DiffusionConfig::robotrain_json() const {
  if (!use_ema) return Json::object();
  return Json{{"use_ema", true}, {"ema_power", ema_power}, {"ema_max_decay", ema_max_decay}};
}

DiffusionConfig DiffusionConfig::from_json(const Json& j) {
  DiffusionConfig c;
  table().read(j, c, "DiffusionConfig");
  c.validate();
  return c;
}

}  // namespace robotrain::policy::diffusion

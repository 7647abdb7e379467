#include "policy/diffusion/config.h"

#include <set>

#include "policy/config_fields.h"
#include "policy/features.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::diffusion {
namespace {

using util::cat;
using util::InputError;
using util::Json;

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

std::optional<std::array<int64_t, 2>> get_pair(const Json& v, const char* field) {
  if (v.is_null()) return std::nullopt;
  auto xs = field_value<std::vector<int64_t>>(v, "diffusion", field);
  if (xs.size() != 2) throw InputError(cat("diffusion config: '", field, "' must be [H, W] or null"));
  return std::array<int64_t, 2>{xs[0], xs[1]};
}

}  // namespace

FeatureType parse_feature_type(const std::string& name) { return parse_feature_type_name(name); }

namespace {

// Every numeric field and what it may hold, checked before any rule that combines fields.
// LeRobot checks few of them; out of range they divide by zero, allocate without bound or
// fail deep inside the model with a shape error.
void check_numeric_fields(const DiffusionConfig& c) {
  using C = DiffusionConfig;
  check_fields<C>("diffusion", c,
                  {{"n_obs_steps", &C::n_obs_steps, 1, 100},
                   {"horizon", &C::horizon, 1, 1024},
                   {"n_action_steps", &C::n_action_steps, 1, 1024},
                   {"drop_n_last_frames", &C::drop_n_last_frames, 0, 1024},
                   {"spatial_softmax_num_keypoints", &C::spatial_softmax_num_keypoints, 1, 4096},
                   {"kernel_size", &C::kernel_size, 1, 31},
                   {"n_groups", &C::n_groups, 1, 4096},
                   {"diffusion_step_embed_dim", &C::diffusion_step_embed_dim, 4, 8192},
                   {"num_train_timesteps", &C::num_train_timesteps, 1, 100000},
                   {"scheduler_warmup_steps", &C::scheduler_warmup_steps, 0, 1000000000}},
                  {{"crop_ratio", &C::crop_ratio, 0, 1, true},
                   {"beta_start", &C::beta_start, 0, 1, true, true},
                   {"beta_end", &C::beta_end, 0, 1, true, true},
                   {"clip_sample_range", &C::clip_sample_range, 0, 1e6, true},
                   {"optimizer_lr", &C::optimizer_lr, 0, 10, true},
                   {"optimizer_eps", &C::optimizer_eps, 0, 1, true},
                   {"optimizer_weight_decay", &C::optimizer_weight_decay, 0, 10},
                   {"ema_power", &C::ema_power, 0, 100, true},
                   {"ema_max_decay", &C::ema_max_decay, 0, 1, false, true}});
  if (c.num_inference_steps) check_int_field("diffusion", "num_inference_steps", *c.num_inference_steps, 1, 100000);
  // Even, so the sinusoidal step embedding (two halves of dim/2 frequencies) has the width asked.
  if (c.diffusion_step_embed_dim % 2)
    throw InputError(cat("diffusion: diffusion_step_embed_dim must be even, got ", c.diffusion_step_embed_dim));
  // Odd, so the 1-D convolutions (padding kernel_size / 2) keep the horizon's length.
  if (c.kernel_size % 2 == 0) throw InputError(cat("diffusion: kernel_size must be odd, got ", c.kernel_size));
  if (c.beta_schedule == "linear" && !(c.beta_start < c.beta_end))
    throw InputError(cat("diffusion: beta_start (", c.beta_start, ") must be below beta_end (", c.beta_end, ")"));
  for (size_t i = 0; i < 2; ++i)
    check_real_field("diffusion", "optimizer_betas", c.optimizer_betas[i], 0, 1, false, true);
  if (c.down_dims.empty() || c.down_dims.size() > 8)
    throw InputError(cat("diffusion: down_dims must have 1 to 8 entries, got ", c.down_dims.size()));
  for (int64_t d : c.down_dims) check_int_field("diffusion", "down_dims", d, 1, 16384);
  if (c.resize_shape)
    for (int64_t side : *c.resize_shape) check_int_field("diffusion", "resize_shape", side, 1, 8192);
  if (c.crop_shape)
    for (int64_t side : *c.crop_shape) check_int_field("diffusion", "crop_shape", side, 1, 8192);
}

}  // namespace

void DiffusionConfig::validate() {
  check_numeric_fields(*this);
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

Json DiffusionConfig::to_json() const {
  Json j;
  j["type"] = "diffusion";
  j["n_obs_steps"] = n_obs_steps;
  j["input_features"] = features_to_json(input_features);
  j["output_features"] = features_to_json(output_features);
  j["device"] = device;
  j["use_amp"] = use_amp;
  j["use_peft"] = use_peft;
  // robotrain pushes nothing, and LeRobot refuses a config that asks to push without a
  // repo_id ("'policy.repo_id' argument missing") on --resume and --policy.path: pinned false.
  j["push_to_hub"] = false;
  j["repo_id"] = opt(repo_id);
  j["private"] = opt(private_);
  j["tags"] = opt(tags);
  j["license"] = opt(license);
  j["pretrained_path"] = opt(pretrained_path);
  j["horizon"] = horizon;
  j["n_action_steps"] = n_action_steps;
  Json norm = Json::object();
  for (const auto& [k, v] : normalization_mapping) norm[k] = v;
  j["normalization_mapping"] = norm;
  j["drop_n_last_frames"] = drop_n_last_frames;
  j["vision_backbone"] = vision_backbone;
  j["resize_shape"] = opt(resize_shape);
  j["crop_ratio"] = crop_ratio;
  j["crop_shape"] = opt(crop_shape);
  j["crop_is_random"] = crop_is_random;
  j["pretrained_backbone_weights"] = opt(pretrained_backbone_weights);
  j["use_group_norm"] = use_group_norm;
  j["spatial_softmax_num_keypoints"] = spatial_softmax_num_keypoints;
  j["use_separate_rgb_encoder_per_camera"] = use_separate_rgb_encoder_per_camera;
  j["down_dims"] = down_dims;
  j["kernel_size"] = kernel_size;
  j["n_groups"] = n_groups;
  j["diffusion_step_embed_dim"] = diffusion_step_embed_dim;
  j["use_film_scale_modulation"] = use_film_scale_modulation;
  j["noise_scheduler_type"] = noise_scheduler_type;
  j["num_train_timesteps"] = num_train_timesteps;
  j["beta_schedule"] = beta_schedule;
  j["beta_start"] = beta_start;
  j["beta_end"] = beta_end;
  j["prediction_type"] = prediction_type;
  j["clip_sample"] = clip_sample;
  j["clip_sample_range"] = clip_sample_range;
  j["num_inference_steps"] = opt(num_inference_steps);
  j["compile_model"] = compile_model;
  j["compile_mode"] = compile_mode;
  j["do_mask_loss_for_padding"] = do_mask_loss_for_padding;
  j["optimizer_lr"] = optimizer_lr;
  j["optimizer_betas"] = optimizer_betas;
  j["optimizer_eps"] = optimizer_eps;
  j["optimizer_weight_decay"] = optimizer_weight_decay;
  j["scheduler_name"] = scheduler_name;
  j["scheduler_warmup_steps"] = scheduler_warmup_steps;
  return j;
}

Json DiffusionConfig::robotrain_json() const {
  if (!use_ema) return Json::object();
  return Json{{"use_ema", true}, {"ema_power", ema_power}, {"ema_max_decay", ema_max_decay}};
}

DiffusionConfig DiffusionConfig::from_json(const Json& j) {
  if (!j.is_object()) throw InputError("diffusion config.json: expected a JSON object");
  DiffusionConfig c;
  static const std::set<std::string> known = {
      "type", "n_obs_steps", "input_features", "output_features", "device", "use_amp", "use_peft", "push_to_hub",
      "repo_id", "private", "tags", "license", "pretrained_path", "horizon", "n_action_steps", "normalization_mapping", "drop_n_last_frames", "vision_backbone", "resize_shape", "crop_ratio", "crop_shape",
      "crop_is_random", "pretrained_backbone_weights", "use_group_norm", "spatial_softmax_num_keypoints",
      "use_separate_rgb_encoder_per_camera", "down_dims", "kernel_size", "n_groups", "diffusion_step_embed_dim",
      "use_film_scale_modulation", "noise_scheduler_type", "num_train_timesteps", "beta_schedule", "beta_start",
      "beta_end", "prediction_type", "clip_sample", "clip_sample_range", "num_inference_steps", "compile_model",
      "compile_mode", "do_mask_loss_for_padding", "optimizer_lr", "optimizer_betas", "optimizer_eps",
      "optimizer_weight_decay", "scheduler_name", "scheduler_warmup_steps",
      // robotrain's EMA (--policy.use_ema true; kept in robotrain.json beside config.json, see
      // policy/pretrained.h); "robotrain_ema" is how checkpoints before that stored it.
      "use_ema", "ema_power", "ema_max_decay", "robotrain_ema",
      // LeRobot 0.6 adds these; neither changes the weights or sampling (a Hub revision for
      // pretrained_path, activation checkpointing to save memory), so 0.6 checkpoints load.
      "pretrained_revision", "gradient_checkpointing"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) throw InputError(cat("diffusion config: unknown field '", k,
                                                 "' (see LeRobot's DiffusionConfig for the field names)"));
  if (j.contains("type") && j["type"] != "diffusion")
    throw InputError(cat("diffusion config: type is ", j["type"].dump(), ", expected \"diffusion\""));
  try {
    const char* P = "diffusion";
    auto get = [&](const char* k, auto& field) { read_field(j, P, k, field); };
    get("n_obs_steps", c.n_obs_steps);
    if (j.contains("input_features")) c.input_features = features_from_json(j["input_features"], "input_features");
    if (j.contains("output_features")) c.output_features = features_from_json(j["output_features"], "output_features");
    if (j.contains("device") && !j["device"].is_null()) c.device = json_string(j["device"], P, "device");
    get("use_amp", c.use_amp);
    get("use_peft", c.use_peft);
    get("push_to_hub", c.push_to_hub);
    get("repo_id", c.repo_id);
    get("private", c.private_);
    get("tags", c.tags);
    get("license", c.license);
    get("pretrained_path", c.pretrained_path);
    get("horizon", c.horizon);
    get("n_action_steps", c.n_action_steps);
    if (j.contains("normalization_mapping")) {
      if (!j["normalization_mapping"].is_object()) throw_field_type(P, "normalization_mapping", "an object", j["normalization_mapping"]);
      c.normalization_mapping.clear();
      for (const auto& [k, v] : j["normalization_mapping"].items())
        c.normalization_mapping.emplace_back(k, json_string(v, P, "normalization_mapping"));
    }
    get("drop_n_last_frames", c.drop_n_last_frames);
    get("vision_backbone", c.vision_backbone);
    if (j.contains("resize_shape")) c.resize_shape = get_pair(j["resize_shape"], "resize_shape");
    get("crop_ratio", c.crop_ratio);
    if (j.contains("crop_shape")) c.crop_shape = get_pair(j["crop_shape"], "crop_shape");
    get("crop_is_random", c.crop_is_random);
    get("pretrained_backbone_weights", c.pretrained_backbone_weights);
    get("use_group_norm", c.use_group_norm);
    get("spatial_softmax_num_keypoints", c.spatial_softmax_num_keypoints);
    get("use_separate_rgb_encoder_per_camera", c.use_separate_rgb_encoder_per_camera);
    get("down_dims", c.down_dims);
    get("kernel_size", c.kernel_size);
    get("n_groups", c.n_groups);
    get("diffusion_step_embed_dim", c.diffusion_step_embed_dim);
    get("use_film_scale_modulation", c.use_film_scale_modulation);
    get("noise_scheduler_type", c.noise_scheduler_type);
    get("num_train_timesteps", c.num_train_timesteps);
    get("beta_schedule", c.beta_schedule);
    get("beta_start", c.beta_start);
    get("beta_end", c.beta_end);
    get("prediction_type", c.prediction_type);
    get("clip_sample", c.clip_sample);
    get("clip_sample_range", c.clip_sample_range);
    get("num_inference_steps", c.num_inference_steps);
    get("compile_model", c.compile_model);
    get("compile_mode", c.compile_mode);
    get("do_mask_loss_for_padding", c.do_mask_loss_for_padding);
    get("optimizer_lr", c.optimizer_lr);
    if (j.contains("optimizer_betas")) {
      auto b = field_value<std::vector<double>>(j["optimizer_betas"], P, "optimizer_betas");
      if (b.size() != 2) throw InputError("diffusion config: optimizer_betas must have two values");
      c.optimizer_betas = {b[0], b[1]};
    }
    get("optimizer_eps", c.optimizer_eps);
    get("optimizer_weight_decay", c.optimizer_weight_decay);
    get("scheduler_name", c.scheduler_name);
    get("scheduler_warmup_steps", c.scheduler_warmup_steps);
    if (j.contains("robotrain_ema") && !j["robotrain_ema"].is_null()) {
      c.use_ema = true;
      const auto& e = j["robotrain_ema"];
      if (!e.is_object()) throw_field_type(P, "robotrain_ema", "an object", e);
      read_field(e, P, "power", c.ema_power);
      read_field(e, P, "max_decay", c.ema_max_decay);
    }
    get("use_ema", c.use_ema);
    get("ema_power", c.ema_power);
    get("ema_max_decay", c.ema_max_decay);
  } catch (const util::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(cat("diffusion config.json: wrong value type (", e.what(), ")"));
  }
  c.validate();
  return c;
}

}  // namespace robotrain::policy::diffusion

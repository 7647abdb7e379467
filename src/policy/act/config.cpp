#include "policy/act/config.h"

#include <cmath>
#include <set>

#include "policy/config_fields.h"
#include "policy/features.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::act {

using util::InputError;
using util::Json;

namespace {
template <class T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}
}  // namespace

namespace {
// Every numeric field and what it may hold. LeRobot checks none of them; out of range they
// divide by zero (n_heads 0), allocate without bound (chunk_size 1e8) or train nothing.
void check_numeric_fields(const ActConfig& c) {
  check_fields<ActConfig>("act", c,
                          {{"n_obs_steps", &ActConfig::n_obs_steps, 1, 1},
                           {"chunk_size", &ActConfig::chunk_size, 1, 1000},
                           {"n_action_steps", &ActConfig::n_action_steps, 1, 1000},
                           {"dim_model", &ActConfig::dim_model, 2, 8192},
                           {"n_heads", &ActConfig::n_heads, 1, 256},
                           {"dim_feedforward", &ActConfig::dim_feedforward, 1, 65536},
                           {"n_encoder_layers", &ActConfig::n_encoder_layers, 1, 64},
                           {"n_decoder_layers", &ActConfig::n_decoder_layers, 1, 64},
                           {"latent_dim", &ActConfig::latent_dim, 1, 4096},
                           {"n_vae_encoder_layers", &ActConfig::n_vae_encoder_layers, 1, 64}},
                          {{"dropout", &ActConfig::dropout, 0, 1, false, true},
                           {"kl_weight", &ActConfig::kl_weight, 0, 1e6},
                           {"optimizer_lr", &ActConfig::optimizer_lr, 0, 10, true},
                           {"optimizer_weight_decay", &ActConfig::optimizer_weight_decay, 0, 10},
                           {"optimizer_lr_backbone", &ActConfig::optimizer_lr_backbone, 0, 10}});
  if (c.temporal_ensemble_coeff && !std::isfinite(*c.temporal_ensemble_coeff))
    throw InputError("act: temporal_ensemble_coeff must be a finite number or null");
}
}  // namespace

void ActConfig::validate() const {
  check_numeric_fields(*this);
  if (n_action_steps > chunk_size)
    throw InputError(util::cat("act: n_action_steps (", n_action_steps, ") must be <= chunk_size (", chunk_size, ")"));
  if (temporal_ensemble_coeff && n_action_steps > 1)
    throw InputError("act: temporal ensembling (temporal_ensemble_coeff) requires n_action_steps == 1");
  if (vision_backbone != "resnet18") throw InputError("act: vision_backbone '" + vision_backbone + "' is not supported (resnet18)");
  if (dim_model % n_heads) throw InputError(util::cat("act: dim_model (", dim_model, ") must be divisible by n_heads (", n_heads, ")"));
  if (dim_model % 2) throw InputError("act: dim_model must be even (2-D sine position embedding)");
  if (feedforward_activation != "relu" && feedforward_activation != "gelu" && feedforward_activation != "glu")
    throw InputError("act: feedforward_activation must be relu, gelu or glu");
  if (image_features().empty() && !env_state_feature())
    throw InputError("act: you must provide at least one image or the environment state among the inputs");
}

std::vector<PolicyFeature> ActConfig::image_features() const {
  std::vector<PolicyFeature> out;
  for (auto& f : input_features)
    if (f.type == FeatureType::Visual) out.push_back(f);
  return out;
}
const PolicyFeature* ActConfig::state_feature() const {
  for (auto& f : input_features)
    if (f.type == FeatureType::State) return &f;
  return nullptr;
}
const PolicyFeature* ActConfig::env_state_feature() const {
  for (auto& f : input_features)
    if (f.type == FeatureType::Env) return &f;
  return nullptr;
}
const PolicyFeature& ActConfig::action_feature() const {
  for (auto& f : output_features)
    if (f.type == FeatureType::Action) return f;
  throw InputError("act: the config has no ACTION output feature");
}

Json ActConfig::to_json() const {
  Json j;
  j["type"] = "act";
  j["n_obs_steps"] = n_obs_steps;
  j["input_features"] = features_to_json(input_features);
  j["output_features"] = features_to_json(output_features);
  j["device"] = device.empty() ? Json(nullptr) : Json(device);
  j["use_amp"] = use_amp;
  j["use_peft"] = use_peft;
  // robotrain pushes nothing, and LeRobot refuses a config that asks to push without a
  // repo_id ("'policy.repo_id' argument missing") on --resume and --policy.path: pinned false.
  j["push_to_hub"] = false;
  j["repo_id"] = opt(repo_id);
  j["private"] = is_private ? Json(true) : Json(nullptr);
  j["tags"] = opt(tags);
  j["license"] = opt(license);
  j["pretrained_path"] = opt(pretrained_path);
  j["chunk_size"] = chunk_size;
  j["n_action_steps"] = n_action_steps;
  Json nm = Json::object();
  for (auto& [k, v] : normalization_mapping) nm[k] = v;
  j["normalization_mapping"] = nm;
  j["vision_backbone"] = vision_backbone;
  j["pretrained_backbone_weights"] = opt(pretrained_backbone_weights);
  j["replace_final_stride_with_dilation"] = replace_final_stride_with_dilation;
  j["pre_norm"] = pre_norm;
  j["dim_model"] = dim_model;
  j["n_heads"] = n_heads;
  j["dim_feedforward"] = dim_feedforward;
  j["feedforward_activation"] = feedforward_activation;
  j["n_encoder_layers"] = n_encoder_layers;
  j["n_decoder_layers"] = n_decoder_layers;
  j["use_vae"] = use_vae;
  j["latent_dim"] = latent_dim;
  j["n_vae_encoder_layers"] = n_vae_encoder_layers;
  j["temporal_ensemble_coeff"] = opt(temporal_ensemble_coeff);
  j["dropout"] = dropout;
  j["kl_weight"] = kl_weight;
  j["optimizer_lr"] = optimizer_lr;
  j["optimizer_weight_decay"] = optimizer_weight_decay;
  j["optimizer_lr_backbone"] = optimizer_lr_backbone;
  return j;
}

ActConfig ActConfig::from_json(const Json& j) {
  static const std::set<std::string> known = {
      "type", "n_obs_steps", "input_features", "output_features", "device", "use_amp", "use_peft", "push_to_hub", "repo_id",
      "private", "tags", "license", "pretrained_path", "chunk_size", "n_action_steps", "normalization_mapping", "vision_backbone",
      "pretrained_backbone_weights", "replace_final_stride_with_dilation", "pre_norm", "dim_model", "n_heads", "dim_feedforward",
      "feedforward_activation", "n_encoder_layers", "n_decoder_layers", "use_vae", "latent_dim", "n_vae_encoder_layers",
      "temporal_ensemble_coeff", "dropout", "kl_weight", "optimizer_lr", "optimizer_weight_decay", "optimizer_lr_backbone",
      // LeRobot 0.6 adds the Hub revision of pretrained_path; it does not change the model.
      "pretrained_revision"};
  for (auto& [k, v] : j.items())
    if (!known.count(k)) throw InputError("act: unknown config field '" + k + "' (see LeRobot's ACTConfig for the field names)");
  ActConfig c;
  const char* P = "act";
  try {
    read_field(j, P, "n_obs_steps", c.n_obs_steps);
    if (j.contains("input_features")) c.input_features = features_from_json(j["input_features"], "input_features");
    if (j.contains("output_features")) c.output_features = features_from_json(j["output_features"], "output_features");
    if (j.contains("device") && !j["device"].is_null()) c.device = json_string(j["device"], P, "device");
    read_field(j, P, "use_amp", c.use_amp);
    read_field(j, P, "use_peft", c.use_peft);
    read_field(j, P, "push_to_hub", c.push_to_hub);
    read_field(j, P, "repo_id", c.repo_id);
    if (j.contains("private") && j["private"].is_boolean()) c.is_private = j["private"].get<bool>();
    read_field(j, P, "tags", c.tags);
    read_field(j, P, "license", c.license);
    read_field(j, P, "pretrained_path", c.pretrained_path);
    read_field(j, P, "chunk_size", c.chunk_size);
    read_field(j, P, "n_action_steps", c.n_action_steps);
    if (j.contains("normalization_mapping") && j["normalization_mapping"].is_object()) {
      c.normalization_mapping.clear();
      for (auto& [k, v] : j["normalization_mapping"].items())
        c.normalization_mapping.emplace_back(k, json_string(v, P, "normalization_mapping"));
    }
    read_field(j, P, "vision_backbone", c.vision_backbone);
    read_field(j, P, "pretrained_backbone_weights", c.pretrained_backbone_weights);
    if (j.contains("replace_final_stride_with_dilation") && !j["replace_final_stride_with_dilation"].is_null()) {
      const Json& v = j["replace_final_stride_with_dilation"];  // LeRobot's default is the int 0
      c.replace_final_stride_with_dilation =
          v.is_boolean() ? v.get<bool>() : json_integer(v, P, "replace_final_stride_with_dilation", 0, 1) != 0;
    }
    read_field(j, P, "pre_norm", c.pre_norm);
    read_field(j, P, "dim_model", c.dim_model);
    read_field(j, P, "n_heads", c.n_heads);
    read_field(j, P, "dim_feedforward", c.dim_feedforward);
    read_field(j, P, "feedforward_activation", c.feedforward_activation);
    read_field(j, P, "n_encoder_layers", c.n_encoder_layers);
    read_field(j, P, "n_decoder_layers", c.n_decoder_layers);
    read_field(j, P, "use_vae", c.use_vae);
    read_field(j, P, "latent_dim", c.latent_dim);
    read_field(j, P, "n_vae_encoder_layers", c.n_vae_encoder_layers);
    read_field(j, P, "temporal_ensemble_coeff", c.temporal_ensemble_coeff);
    read_field(j, P, "dropout", c.dropout);
    read_field(j, P, "kl_weight", c.kl_weight);
    read_field(j, P, "optimizer_lr", c.optimizer_lr);
    read_field(j, P, "optimizer_weight_decay", c.optimizer_weight_decay);
    read_field(j, P, "optimizer_lr_backbone", c.optimizer_lr_backbone);
  } catch (const util::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(std::string("act: config field has the wrong type: ") + e.what());
  }
  return c;
}

}  // namespace robotrain::policy::act

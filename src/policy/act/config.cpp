#include "policy/act/config.h"

#include "policy/config_table.h"
#include "policy/features.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy::act {

using util::InputError;
using util::Json;

namespace {

// Every field of config.json, in LeRobot's order, with what each number may hold. LeRobot
// checks none of the ranges; out of range they divide by zero (n_heads 0), allocate without
// bound (chunk_size 1e8) or train nothing.
const auto& table() {
  using C = ActConfig;
  static const auto rows = std::tuple_cat(
      pretrained_config_rows<C>(Range{1, 1}),
      std::make_tuple(
          field("chunk_size", &C::chunk_size, {1, 1000}),
          field("n_action_steps", &C::n_action_steps, {1, 1000}),
          normalization_mapping_row<C>(),
          field("vision_backbone", &C::vision_backbone),
          field("pretrained_backbone_weights", &C::pretrained_backbone_weights),
          CustomField<C>{"replace_final_stride_with_dilation",
                         [](const C& c) { return Json(c.replace_final_stride_with_dilation); },
                         [](const Json& v, const char* policy, C& c) {  // LeRobot's default is the int 0
                           if (!v.is_null())
                             c.replace_final_stride_with_dilation =
                                 v.is_boolean() ? v.get<bool>()
                                                : json_integer(v, policy, "replace_final_stride_with_dilation", 0, 1) != 0;
                         }},
          field("pre_norm", &C::pre_norm),
          field("dim_model", &C::dim_model, {2, 8192}),
          field("n_heads", &C::n_heads, {1, 256}),
          field("dim_feedforward", &C::dim_feedforward, {1, 65536}),
          field("feedforward_activation", &C::feedforward_activation),
          field("n_encoder_layers", &C::n_encoder_layers, {1, 64}),
          field("n_decoder_layers", &C::n_decoder_layers, {1, 64}),
          field("use_vae", &C::use_vae),
          field("latent_dim", &C::latent_dim, {1, 4096}),
          field("n_vae_encoder_layers", &C::n_vae_encoder_layers, {1, 64}),
          field("temporal_ensemble_coeff", &C::temporal_ensemble_coeff, Range{}),  // finite or null
          field("dropout", &C::dropout, {0, 1, false, true}),
          field("kl_weight", &C::kl_weight, {0, 1e6}),
          field("optimizer_lr", &C::optimizer_lr, {0, 10}),  // 0 freezes: a weights-only check
          field("optimizer_weight_decay", &C::optimizer_weight_decay, {0, 10}),
          field("optimizer_lr_backbone", &C::optimizer_lr_backbone, {0, 10}),
          accepted<C>("pretrained_revision")));  // LeRobot 0.6: the Hub revision of pretrained_path
  static const auto t = make_table<C>("act", rows);
  return t;
}

}  // namespace

void ActConfig::validate() const {
  table().check(*this);
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

Json ActConfig::to_json() const { return table().write(*this); }

ActConfig ActConfig::from_json(const Json& j) {
  ActConfig c;
  table().read(j, c, "ACTConfig");
  return c;
}

}  // namespace robotrain::policy::act

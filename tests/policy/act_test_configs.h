#pragma once
// ACT configurations and normalisation stats shared by the policy tests.
#include <vector>

#include "policy/act/act_policy.h"

namespace robotrain::policy::act::fixtures {

// Zero mean and unit std for every feature of `c` (per channel for images, as LeRobot keeps
// image stats): normalisation then leaves the values as they are.
inline StatsTensors unit_stats(const ActConfig& c) {
  StatsTensors s;
  std::vector<PolicyFeature> all = c.input_features;
  all.insert(all.end(), c.output_features.begin(), c.output_features.end());
  for (auto& f : all) {
    auto shape = f.type == FeatureType::Visual ? std::vector<int64_t>{3, 1, 1} : f.shape;
    s[f.key]["mean"] = torch::zeros(shape);
    s[f.key]["std"] = torch::ones(shape);
  }
  return s;
}

// LeRobot's ACT defaults on ALOHA's features: one 480x640 camera, 14-D state and action.
inline ActConfig aloha_act() {
  ActConfig c;
  c.input_features = {{"observation.images.top", FeatureType::Visual, {3, 480, 640}},
                      {"observation.state", FeatureType::State, {14}}};
  c.output_features = {{"action", FeatureType::Action, {14}}};
  c.pretrained_backbone_weights.reset();
  return c;
}

// ACT over the given features with small dimensions (a forward pass in milliseconds on a CPU)
// and no pretrained backbone.
inline ActConfig small_act(std::vector<PolicyFeature> inputs, std::vector<PolicyFeature> outputs, int64_t chunk = 4) {
  ActConfig c;
  c.input_features = std::move(inputs);
  c.output_features = std::move(outputs);
  c.pretrained_backbone_weights.reset();
  c.dim_model = 32;
  c.n_heads = 4;
  c.dim_feedforward = 64;
  c.chunk_size = chunk;
  c.n_action_steps = chunk;
  return c;
}

// The smallest ACT with a camera (32x32) and a 2-D state and action: one layer each, no dropout.
inline ActConfig tiny_act() {
  ActConfig c = small_act({{"observation.images.cam", FeatureType::Visual, {3, 32, 32}},
                           {"observation.state", FeatureType::State, {2}}},
                          {{"action", FeatureType::Action, {2}}}, 5);
  c.n_encoder_layers = 1;
  c.n_vae_encoder_layers = 1;
  c.latent_dim = 4;
  c.dropout = 0.0;
  return c;
}

}  // namespace robotrain::policy::act::fixtures

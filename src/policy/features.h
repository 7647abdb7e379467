#pragma once
// Policy input/output features as LeRobot's config.json writes them, and how a dataset's
// features map to them (cameras VISUAL with CHW shape, observation.environment_state ENV,
// other observation.* STATE, action* ACTION).
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::policy {

FeatureType parse_feature_type_name(const std::string& name);  // InputError on unknown names
util::Json features_to_json(const std::vector<PolicyFeature>& features);
std::vector<PolicyFeature> features_from_json(const util::Json& j, const char* field);

struct DatasetFeatures {
  std::vector<PolicyFeature> inputs;
  std::vector<PolicyFeature> outputs;
};
// Dataset keys not prefixed "observation." (state, image, actions) are accepted as in the wild.
DatasetFeatures features_from_dataset(const dataset::DatasetMeta& meta);

// Dataset stats as tensors: feature -> stat name -> tensor shaped as stored.
using StatsTensors = std::map<std::string, std::map<std::string, torch::Tensor>>;
StatsTensors stats_to_tensors(const dataset::DatasetStats& stats);
// ImageNet mean/std (3,1,1) for every camera (LeRobot's use_imagenet_stats).
void apply_imagenet_stats(StatsTensors& stats, const std::vector<PolicyFeature>& inputs);

}  // namespace robotrain::policy

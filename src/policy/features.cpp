#include "policy/features.h"

#include <set>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy {

const char* feature_type_name(FeatureType t) {
  switch (t) {
    case FeatureType::Visual: return "VISUAL";
    case FeatureType::State: return "STATE";
    case FeatureType::Env: return "ENV";
    default: return "ACTION";
  }
}

FeatureType parse_feature_type_name(const std::string& n) {
  if (n == "VISUAL") return FeatureType::Visual;
  if (n == "STATE") return FeatureType::State;
  if (n == "ENV") return FeatureType::Env;
  if (n == "ACTION") return FeatureType::Action;
  throw util::InputError("unknown feature type '" + n + "' in config.json (VISUAL, STATE, ENV or ACTION)");
}

util::Json features_to_json(const std::vector<PolicyFeature>& features) {
  util::Json out = util::Json::object();
  for (auto& f : features) out[f.key] = {{"type", feature_type_name(f.type)}, {"shape", f.shape}};
  return out;
}

std::vector<PolicyFeature> features_from_json(const util::Json& j, const char* field) {
  std::vector<PolicyFeature> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw util::InputError(std::string("config.json: '") + field + "' must be an object of {type, shape}");
  for (auto& [k, v] : j.items()) out.push_back({k, parse_feature_type_name(v.at("type").get<std::string>()), v.at("shape").get<std::vector<int64_t>>()});
  return out;
}

DatasetFeatures features_from_dataset(const dataset::DatasetMeta& meta) {
  DatasetFeatures f;
  static const std::set<std::string> bookkeeping = {"timestamp", "frame_index", "episode_index", "index", "task_index"};
  for (auto& feat : meta.features) {
    if (bookkeeping.count(feat.key) || feat.dtype == "string") continue;
    if (feat.is_visual()) {
      if (feat.shape.size() != 3) throw util::InputError("camera feature '" + feat.key + "' must have shape [H, W, C] in meta/info.json");
      // info.json stores HWC; LeRobot's policies see CHW. Some converted datasets store CHW already.
      bool chw = feat.shape[0] == 3 && feat.shape[2] != 3;
      f.inputs.push_back({feat.key, FeatureType::Visual, chw ? feat.shape : std::vector<int64_t>{feat.shape[2], feat.shape[0], feat.shape[1]}});
    } else if (feat.key == "action" || feat.key == "actions") {
      f.outputs.push_back({feat.key, FeatureType::Action, feat.shape});
    } else if (feat.key == "observation.environment_state") {
      f.inputs.push_back({feat.key, FeatureType::Env, feat.shape});
    } else if (util::starts_with(feat.key, "observation.") || feat.key == "state") {
      f.inputs.push_back({feat.key, FeatureType::State, feat.shape});
    }
  }
  if (f.outputs.empty()) throw util::InputError("dataset at " + meta.root.string() + " has no 'action' feature to learn");
  return f;
}

StatsTensors stats_to_tensors(const dataset::DatasetStats& stats) {
  StatsTensors out;
  for (auto& [key, fs] : stats)
    for (auto& [name, vals] : fs.values) {
      std::vector<float> v(vals.begin(), vals.end());
      auto t = torch::tensor(v, torch::kFloat32);
      auto it = fs.shapes.find(name);
      if (it != fs.shapes.end()) {
        int64_t n = 1;
        for (auto d : it->second) n *= d;
        if (n == t.numel()) t = t.reshape(it->second);
      }
      out[key][name] = t;
    }
  return out;
}

void apply_imagenet_stats(StatsTensors& stats, const std::vector<PolicyFeature>& inputs) {
  for (auto& f : inputs) {
    if (f.type != FeatureType::Visual) continue;
    stats[f.key]["mean"] = torch::tensor({0.485f, 0.456f, 0.406f}).reshape({3, 1, 1});
    stats[f.key]["std"] = torch::tensor({0.229f, 0.224f, 0.225f}).reshape({3, 1, 1});
  }
}

}  // namespace robotrain::policy

#include "policy/factory.h"

#include <map>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy {

namespace {
std::map<std::string, PolicyMaker>& makers() {
  static std::map<std::string, PolicyMaker> m;
  return m;
}
}  // namespace

PolicyRegistrar::PolicyRegistrar(const std::string& type, PolicyMaker maker) { makers()[type] = std::move(maker); }

std::vector<std::string> registered_policy_types() {
  std::vector<std::string> out;
  for (auto& [k, v] : makers()) out.push_back(k);
  return out;
}

std::shared_ptr<Policy> make_policy_with_stats(const util::Json& config, StatsTensors stats) {
  std::string type = config.value("type", "");
  auto it = makers().find(type);
  if (it == makers().end())
    throw util::InputError("unknown policy type '" + type + "': use one of " + util::join(registered_policy_types(), ", "));
  return it->second(config, std::move(stats));
}

std::shared_ptr<Policy> make_policy(const util::Json& config, const dataset::DatasetMeta& meta, bool use_imagenet_stats) {
  util::Json c = config;
  auto features = features_from_dataset(meta);
  if (!c.contains("input_features") || c["input_features"].empty()) c["input_features"] = features_to_json(features.inputs);
  if (!c.contains("output_features") || c["output_features"].empty()) c["output_features"] = features_to_json(features.outputs);
  auto stats = stats_to_tensors(meta.stats);
  if (use_imagenet_stats) apply_imagenet_stats(stats, features_from_json(c["input_features"], "input_features"));
  return make_policy_with_stats(c, std::move(stats));
}

}  // namespace robotrain::policy

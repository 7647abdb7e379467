#include "train/policy_io.h"

#include "policy/factory.h"
#include "policy/pretrained.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::train {

namespace fs = std::filesystem;
using util::Json;

namespace {

// Every key the user set must exist in the policy's complete config (draccus rejects
// unknown fields too); nested objects are checked key by key.
void check_known_fields(const Json& given, const Json& complete, const std::string& prefix) {
  for (auto& [k, v] : given.items()) {
    if (prefix.empty() && complete.value("type", std::string()) == "diffusion" &&
        (k == "use_ema" || k == "ema_power" || k == "ema_max_decay"))
      continue;  // robotrain-only flags (robotrain.json; LeRobot's config has no such fields)
    auto it = complete.find(k);
    if (it == complete.end())
      throw util::InputError(util::cat("--policy.", prefix, k, ": the ", complete.value("type", std::string("policy")),
                                       " config has no field '", prefix, k, "'"));
    if (v.is_object() && it->is_object() && !it->empty() && k != "input_features" && k != "output_features")
      check_known_fields(v, *it, prefix + k + ".");
  }
}

}  // namespace

std::shared_ptr<policy::Policy> build_policy(const Json& config, const dataset::DatasetMeta& meta,
                                             bool use_imagenet_stats) {
  auto p = policy::make_policy(config, meta, use_imagenet_stats);
  check_known_fields(config, p->config_json(), "");
  return p;
}

void save_policy(policy::Policy& policy, const fs::path& dir, const Json& train_extras) {
  // config.json, model.safetensors, the processor files with the normaliser stats, robotrain.json.
  policy::save_pretrained(policy, dir, train_extras);
}

void load_policy_weights(policy::Policy& policy, const fs::path& dir) {
  policy::load_pretrained_weights(policy, dir);  // with the policy's extra files (diffusion's EMA)
}

}  // namespace robotrain::train

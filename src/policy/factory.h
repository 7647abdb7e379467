#pragma once
// Policy types register themselves by name ("act", "diffusion"); the trainer, evaluation and
// warm-start build them from a config.json (possibly partial: "type" plus overrides) and the
// dataset they train on, or from a pretrained_model directory.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "dataset/lerobot_dataset.h"
#include "policy/features.h"
#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::policy {

// `config` is complete (input/output features filled in); stats are the dataset's.
using PolicyMaker = std::function<std::shared_ptr<Policy>(const util::Json& config, StatsTensors stats)>;

struct PolicyRegistrar {
  PolicyRegistrar(const std::string& type, PolicyMaker maker);
};

std::vector<std::string> registered_policy_types();

// Fills input/output features from the dataset when the config has none; InputError for an
// unknown type or field.
std::shared_ptr<Policy> make_policy(const util::Json& config, const dataset::DatasetMeta& meta, bool use_imagenet_stats);
std::shared_ptr<Policy> make_policy_with_stats(const util::Json& config, StatsTensors stats);

}  // namespace robotrain::policy

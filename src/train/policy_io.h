#pragma once
// The training loop's view of the policy area: build a policy for a dataset from its
// config.json contents, write/read LeRobot's pretrained_model/ directory.
#include <filesystem>
#include <memory>

#include "dataset/lerobot_dataset.h"
#include "policy/policy.h"
#include "util/json.h"

namespace robotrain::train {

// `config` is the policy's config.json contents, possibly partial ("type" plus overrides);
// InputError on an unknown type or field. The returned policy's config_json() is complete.
std::shared_ptr<policy::Policy> build_policy(const util::Json& config, const dataset::DatasetMeta& meta,
                                             bool use_imagenet_stats);
// config.json, model.safetensors, policy_{pre,post}processor*.json/.safetensors and
// robotrain.json (with `train_extras` as its "train" section).
void save_policy(policy::Policy& policy, const std::filesystem::path& pretrained_dir, const util::Json& train_extras);
// Weights only (LeRobot key names; RuntimeError naming the key on a missing key or shape mismatch).
void load_policy_weights(policy::Policy& policy, const std::filesystem::path& pretrained_dir);

}  // namespace robotrain::train

#pragma once
// robotrain.json in a pretrained_model/ directory: what robotrain keeps beside LeRobot's
// files. LeRobot parses config.json and train_config.json strictly (draccus rejects unknown
// fields, so one extra field stops LeRobot from loading or resuming the checkpoint); robotrain's
// own settings live here instead:
//   {"format": "robotrain-pretrained/1",
//    "policy": {...},  // Policy::robotrain_config(), e.g. diffusion's use_ema / ema_power
//    "train": {...}}   // the trainer's val_split / val_episodes
// LeRobot ignores the file; a directory LeRobot wrote simply has none.
#include <filesystem>
#include <string>

#include "util/json.h"

namespace robotrain::policy {

inline constexpr const char* kRobotrainFile = "robotrain.json";

// One section of `dir`/robotrain.json; an empty object when the file or section is absent.
util::Json read_robotrain_section(const std::filesystem::path& dir, const std::string& section);
// `dir`/config.json with robotrain.json's "policy" fields merged in: what a policy is built
// from. InputError when config.json is missing or not an object.
util::Json read_policy_config(const std::filesystem::path& dir);

}  // namespace robotrain::policy

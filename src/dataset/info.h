#pragma once
// info.json pieces: LeRobot's path templates (a subset of Python str.format), features as
// found in the wild, and how a feature is used for training (LeRobot's
// dataset_to_policy_features, plus the unprefixed keys seen in converted datasets).
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "dataset/lerobot_dataset.h"
#include "util/json.h"

namespace robotrain::dataset {

using TemplateValue = std::variant<int64_t, std::string>;

// Expands "{name}" and "{name:03d}" fields. InputError naming the template for an unknown
// field or an unsupported format spec.
std::string format_path_template(const std::string& tmpl, const std::map<std::string, TemplateValue>& values);

// Parses info.json "features" in order; quirks are accepted and noted in `warnings`.
std::vector<Feature> parse_features(const util::Json& features, std::vector<std::string>& warnings);
util::Json feature_to_json(const Feature& f);

enum class FeatureRole { Visual, State, Env, Action, Other };
const char* feature_role_name(FeatureRole r);
// Cameras by dtype; "observation.environment_state" is Env; "observation.*" and the
// unprefixed "state" are State; "action*" (so also "actions") is Action; the rest Other.
FeatureRole feature_role(const Feature& f);

// Camera shape as (C, H, W), whichever order info.json uses ([H,W,C] with names ending in
// "channel(s)", or [C,H,W] with names starting with it).
std::vector<int64_t> camera_chw(const Feature& f);
// "" when a video of width x height fits camera `f` (camera_chw), else what differs, in the words
// the loader and `dataset validate` both use.
std::string video_size_mismatch(const Feature& f, int width, int height);
// Names flattened to one list of strings (nested lists, dicts of lists); empty when null.
std::vector<std::string> flat_names(const Feature& f);
// The video codec named in the feature's info block ("video.codec"), or "".
std::string feature_codec(const Feature& f);

// The LeRobot default columns every frame carries.
bool is_default_feature(const std::string& key);

}  // namespace robotrain::dataset

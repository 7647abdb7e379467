#include "policy/normalizer.h"

#include "policy/tensor_io.h"
#include "util/error.h"
#include "util/json.h"

namespace robotrain::policy {

namespace {
constexpr double kEps = 1e-8;
constexpr const char* kPreStats = "policy_preprocessor_step_3_normalizer_processor.safetensors";
constexpr const char* kPostStats = "policy_postprocessor_step_0_unnormalizer_processor.safetensors";
}  // namespace

Normalizer::Normalizer(std::vector<PolicyFeature> f, std::vector<std::pair<std::string, std::string>> m, StatsTensors s)
    : features_(std::move(f)), mapping_(std::move(m)), stats_(std::move(s)) {}

std::string Normalizer::mode_for(const std::string& key) const {
  for (auto& f : features_) {
    if (f.key != key) continue;
    for (auto& [type, mode] : mapping_)
      if (type == feature_type_name(f.type)) return mode;
    return "IDENTITY";
  }
  return "IDENTITY";
}

void Normalizer::check() const {
  for (auto& f : features_) {
    std::string mode = mode_for(f.key);
    std::vector<const char*> needed;
    if (mode == "MEAN_STD") needed = {"mean", "std"};
    else if (mode == "MIN_MAX") needed = {"min", "max"};
    else if (mode != "IDENTITY") throw util::InputError("normalization mode '" + mode + "' is not supported (MEAN_STD, MIN_MAX, IDENTITY)");
    for (auto* s : needed) {
      auto it = stats_.find(f.key);
      if (it == stats_.end() || !it->second.count(s))
        throw util::InputError("dataset stats lack '" + f.key + "." + s + "' needed to normalise it (" + mode +
                               "): recompute meta/stats.json or change normalization_mapping");
    }
  }
}

torch::Tensor Normalizer::normalize(const std::string& key, const torch::Tensor& x) const {
  std::string mode = mode_for(key);
  if (mode == "IDENTITY") return x;
  auto& s = stats_.at(key);
  if (mode == "MEAN_STD") {
    auto m = s.at("mean").to(x.device(), x.scalar_type()), sd = s.at("std").to(x.device(), x.scalar_type());
    return (x - m) / (sd + kEps);
  }
  auto lo = s.at("min").to(x.device(), x.scalar_type()), hi = s.at("max").to(x.device(), x.scalar_type());
  return 2 * (x - lo) / (hi - lo + kEps) - 1;
}

torch::Tensor Normalizer::unnormalize(const std::string& key, const torch::Tensor& x) const {
  std::string mode = mode_for(key);
  if (mode == "IDENTITY") return x;
  auto& s = stats_.at(key);
  if (mode == "MEAN_STD")
    return x * s.at("std").to(x.device(), x.scalar_type()) + s.at("mean").to(x.device(), x.scalar_type());
  auto lo = s.at("min").to(x.device(), x.scalar_type()), hi = s.at("max").to(x.device(), x.scalar_type());
  return (x + 1) / 2 * (hi - lo + kEps) + lo;
}

void Normalizer::save(const std::filesystem::path& dir, const std::string& device) const {
  util::Json feats = util::Json::object();
  for (auto& f : features_) feats[f.key] = {{"type", feature_type_name(f.type)}, {"shape", f.shape}};
  util::Json norm_map = util::Json::object();
  for (auto& [k, v] : mapping_) norm_map[k] = v;
  util::Json norm_cfg = {{"eps", kEps}, {"features", feats}, {"norm_map", norm_map}};
  util::Json pre = {{"name", "policy_preprocessor"},
                    {"steps",
                     {{{"registry_name", "rename_observations_processor"}, {"config", {{"rename_map", util::Json::object()}}}},
                      {{"registry_name", "to_batch_processor"}, {"config", util::Json::object()}},
                      {{"registry_name", "device_processor"}, {"config", {{"device", device}, {"float_dtype", nullptr}}}},
                      {{"registry_name", "normalizer_processor"}, {"config", norm_cfg}, {"state_file", kPreStats}}}}};
  util::Json post = {{"name", "policy_postprocessor"},
                     {"steps",
                      {{{"registry_name", "unnormalizer_processor"}, {"config", norm_cfg}, {"state_file", kPostStats}},
                       {{"registry_name", "device_processor"}, {"config", {{"device", "cpu"}, {"float_dtype", nullptr}}}}}}};
  NamedTensors flat;
  for (auto& [key, stats] : stats_)
    for (auto& [name, t] : stats) flat.emplace_back(key + "." + name, t.to(torch::kFloat32));
  save_tensors(dir / kPreStats, flat);
  save_tensors(dir / kPostStats, flat);
  util::write_json_file(dir / "policy_preprocessor.json", pre);
  util::write_json_file(dir / "policy_postprocessor.json", post);
}

StatsTensors Normalizer::load_stats(const std::filesystem::path& dir) {
  StatsTensors out;
  auto path = dir / kPreStats;
  if (!std::filesystem::exists(path)) path = dir / kPostStats;
  if (!std::filesystem::exists(path))
    throw util::InputError("no normalizer statistics in " + dir.string() + " (expected " + kPreStats +
                           "): a LeRobot < 0.4 checkpoint keeps them in model.safetensors, which robotrain does not read");
  for (auto& [flat, t] : load_tensors(path)) {
    auto dot = flat.rfind('.');
    if (dot == std::string::npos) continue;
    out[flat.substr(0, dot)][flat.substr(dot + 1)] = t;
  }
  return out;
}

}  // namespace robotrain::policy

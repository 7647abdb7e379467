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

namespace {
// The two statistics a mode scales with, (centre, spread) for MEAN_STD or (low, high) for
// the range modes; nullptr pair for IDENTITY. InputError for an unknown mode.
std::pair<const char*, const char*> stat_names(const std::string& mode) {
  if (mode == "MEAN_STD") return {"mean", "std"};
  if (mode == "MIN_MAX") return {"min", "max"};
  if (mode == "QUANTILES") return {"q01", "q99"};
  if (mode == "QUANTILE10") return {"q10", "q90"};
  if (mode == "IDENTITY") return {nullptr, nullptr};
  throw util::InputError("normalization mode '" + mode + "' is not supported (MEAN_STD, MIN_MAX, QUANTILES, QUANTILE10, IDENTITY)");
}

// A statistic on the input's device and dtype; cameras' per-channel (C,) stats broadcast as
// (C, 1, 1), as LeRobot reshapes them.
torch::Tensor stat_like(const torch::Tensor& s, const torch::Tensor& x, bool visual) {
  auto t = s.to(x.device(), x.scalar_type());
  return visual && t.dim() == 1 ? t.view({-1, 1, 1}) : t;
}
}  // namespace

void Normalizer::check() const {
  for (auto& f : features_) {
    std::string mode = mode_for(f.key);
    auto [a, b] = stat_names(mode);
    if (!a) continue;
    for (auto* s : {a, b}) {
      auto it = stats_.find(f.key);
      if (it == stats_.end() || !it->second.count(s))
        throw util::InputError("dataset stats lack '" + f.key + "." + s + "' needed to normalise it (" + mode +
                               "): recompute meta/stats.json or change normalization_mapping");
    }
  }
}

std::optional<Normalizer::Scale> Normalizer::scale_for(const std::string& key, const torch::Tensor& x) const {
  std::string mode = mode_for(key);
  auto [a, b] = stat_names(mode);
  if (!a) return std::nullopt;
  auto& s = stats_.at(key);
  bool visual = is_visual(key);
  Scale scale{mode == "MEAN_STD", stat_like(s.at(a), x, visual), stat_like(s.at(b), x, visual)};
  if (!scale.mean_std) {
    auto range = scale.spread - scale.offset;
    scale.spread = torch::where(range == 0, torch::full_like(range, kEps), range);
  }
  return scale;
}

// LeRobot 0.5 (processor/normalize_processor.py): MEAN_STD (x - mean) / (std + eps), inverse
// x * std + mean; the range modes map [low, high] to [-1, 1].
torch::Tensor Normalizer::normalize(const std::string& key, const torch::Tensor& x) const {
  auto s = scale_for(key, x);
  if (!s) return x;
  if (s->mean_std) return (x - s->offset) / (s->spread + kEps);
  return 2 * (x - s->offset) / s->spread - 1;
}

torch::Tensor Normalizer::unnormalize(const std::string& key, const torch::Tensor& x) const {
  auto s = scale_for(key, x);
  if (!s) return x;
  if (s->mean_std) return x * s->spread + s->offset;
  return (x + 1) / 2 * s->spread + s->offset;
}

TensorMap Normalizer::each_feature(const TensorMap& batch, OneFeature apply) const {
  TensorMap out = batch;
  for (auto& f : features_) {
    auto it = out.find(f.key);
    if (it != out.end()) it->second = (this->*apply)(f.key, it->second);
  }
  return out;
}

TensorMap Normalizer::normalize(const TensorMap& batch) const { return each_feature(batch, &Normalizer::normalize); }

TensorMap Normalizer::unnormalize(const TensorMap& batch) const { return each_feature(batch, &Normalizer::unnormalize); }

bool Normalizer::is_visual(const std::string& key) const {
  for (auto& f : features_)
    if (f.key == key) return f.type == FeatureType::Visual;
  return false;
}

void Normalizer::save(const std::filesystem::path& dir, const std::string& device) const {
  // As LeRobot's make_*_pre_post_processors: the normalizer knows every feature, the
  // unnormalizer the outputs only (both files hold every feature's stats).
  util::Json feats = util::Json::object(), output_feats = util::Json::object();
  for (auto& f : features_) {
    util::Json entry = {{"type", feature_type_name(f.type)}, {"shape", f.shape}};
    if (f.type == FeatureType::Action) output_feats[f.key] = entry;
    feats[f.key] = std::move(entry);
  }
  util::Json norm_map = util::Json::object();
  for (auto& [k, v] : mapping_) norm_map[k] = v;
  util::Json norm_cfg = {{"eps", kEps}, {"features", feats}, {"norm_map", norm_map}};
  util::Json unnorm_cfg = {{"eps", kEps}, {"features", output_feats}, {"norm_map", norm_map}};
  util::Json pre = {{"name", "policy_preprocessor"},
                    {"steps",
                     {{{"registry_name", "rename_observations_processor"}, {"config", {{"rename_map", util::Json::object()}}}},
                      {{"registry_name", "to_batch_processor"}, {"config", util::Json::object()}},
                      {{"registry_name", "device_processor"}, {"config", {{"device", device}, {"float_dtype", nullptr}}}},
                      {{"registry_name", "normalizer_processor"}, {"config", norm_cfg}, {"state_file", kPreStats}}}}};
  util::Json post = {{"name", "policy_postprocessor"},
                     {"steps",
                      {{{"registry_name", "unnormalizer_processor"}, {"config", unnorm_cfg}, {"state_file", kPostStats}},
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

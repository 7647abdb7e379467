#include "train/policy_io.h"

#include "train/processor_files.h"
#include "train/tensor_file.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

// Policies are wired here as they land in the policy area (each behind the Policy contract).
#if __has_include("policy/diffusion/diffusion_policy.h")
#define ROBOTRAIN_HAVE_DIFFUSION 1
#include "policy/diffusion/diffusion_policy.h"
#endif

namespace robotrain::train {

namespace fs = std::filesystem;
using util::Json;

namespace {

// Every key the user set must exist in the policy's complete config (draccus rejects
// unknown fields too); nested objects are checked key by key.
void check_known_fields(const Json& given, const Json& complete, const std::string& prefix) {
  for (auto& [k, v] : given.items()) {
    auto it = complete.find(k);
    if (it == complete.end())
      throw util::InputError(util::cat("--policy.", prefix, k, ": the ", complete.value("type", std::string("policy")),
                                       " config has no field '", prefix, k, "'"));
    if (v.is_object() && it->is_object() && !it->empty() && k != "input_features" && k != "output_features")
      check_known_fields(v, *it, prefix + k + ".");
  }
}

std::map<std::string, std::map<std::string, torch::Tensor>> stats_tensors(const dataset::DatasetMeta& meta,
                                                                          bool use_imagenet_stats) {
  std::map<std::string, std::map<std::string, torch::Tensor>> out;
  for (const auto& [key, fs] : effective_stats(meta, use_imagenet_stats)) {
    for (const auto& [name, values] : fs.values) {
      std::vector<float> v(values.begin(), values.end());
      auto t = torch::tensor(v, torch::kFloat32);
      auto shape = fs.shapes.find(name);
      if (shape != fs.shapes.end() && !shape->second.empty()) {
        int64_t n = 1;
        for (auto d : shape->second) n *= d;
        if (n == t.numel()) t = t.reshape(shape->second);
      }
      out[key][name] = t;
    }
  }
  return out;
}

}  // namespace

Json policy_features(const dataset::DatasetMeta& meta) {
  Json in = Json::object(), out = Json::object();
  for (const auto& f : meta.features) {
    if (f.is_visual()) {
      // info.json stores cameras as [H, W, C]; policies see [C, H, W].
      if (f.shape.size() == 3) in[f.key] = {{"type", "VISUAL"}, {"shape", {f.shape[2], f.shape[0], f.shape[1]}}};
    } else if (f.key == "observation.environment_state") {
      in[f.key] = {{"type", "ENV"}, {"shape", f.shape}};
    } else if (util::starts_with(f.key, "observation.")) {
      in[f.key] = {{"type", "STATE"}, {"shape", f.shape}};
    } else if (util::starts_with(f.key, "action")) {
      out[f.key] = {{"type", "ACTION"}, {"shape", f.shape}};
    }
  }
  return Json{{"input_features", in}, {"output_features", out}};
}

util::Json read_policy_config(const fs::path& pretrained_dir) {
  fs::path f = pretrained_dir / "config.json";
  if (!fs::is_regular_file(f))
    throw util::InputError(util::cat(pretrained_dir.string(), ": no config.json; give a pretrained_model directory"));
  return util::read_json_file(f);
}

std::shared_ptr<policy::Policy> build_policy(const Json& config, const dataset::DatasetMeta& meta,
                                             bool use_imagenet_stats) {
  const std::string type = config.value("type", std::string());
  Json full = config;
  // Features come from the dataset unless the config (a pretrained one) names them.
  auto feats = policy_features(meta);
  if (!full.contains("input_features") || full["input_features"].empty()) full["input_features"] = feats["input_features"];
  if (!full.contains("output_features") || full["output_features"].empty()) full["output_features"] = feats["output_features"];
  std::shared_ptr<policy::Policy> p;
#ifdef ROBOTRAIN_HAVE_DIFFUSION
  if (type == "diffusion")
    p = std::make_shared<policy::diffusion::DiffusionPolicy>(policy::diffusion::DiffusionConfig::from_json(full),
                                                              stats_tensors(meta, use_imagenet_stats));
#endif
  if (!p)
    throw util::InputError(util::cat("--policy.type '", type, "' is not available in this build; use act or diffusion"));
  check_known_fields(config, p->config_json(), "");
  return p;
}

void save_policy(policy::Policy& policy, const fs::path& dir, const dataset::DatasetMeta& meta, bool use_imagenet_stats) {
  Json cfg = policy.config_json();
  util::write_json_file(dir / "config.json", cfg);
  save_tensor_file(dir / "model.safetensors", policy.lerobot_state_dict());
#ifdef ROBOTRAIN_HAVE_DIFFUSION
  if (auto* d = dynamic_cast<policy::diffusion::DiffusionPolicy*>(&policy); d && d->has_ema())
    save_tensor_file(dir / "ema.safetensors", d->ema_state_dict());
#endif
  write_processor_files(dir, cfg, meta, use_imagenet_stats);
}

namespace {

void copy_named(const std::vector<std::pair<std::string, torch::Tensor>>& targets, const fs::path& file) {
  auto tensors = load_tensor_file(file);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end())
      throw util::RuntimeError(util::cat(file.string(), ": missing '", name,
                                         "'; the checkpoint belongs to another policy configuration"));
    if (it->second.sizes() != t.sizes())
      throw util::RuntimeError(util::cat(file.string(), ": '", name, "' has shape ",
                                         it->second.sizes(), " but the policy expects ", t.sizes()));
    t.copy_(it->second.to(t.dtype()));
  }
}

}  // namespace

void load_policy_weights(policy::Policy& policy, const fs::path& dir) {
  copy_named(policy.lerobot_state_dict(), dir / "model.safetensors");
#ifdef ROBOTRAIN_HAVE_DIFFUSION
  if (auto* d = dynamic_cast<policy::diffusion::DiffusionPolicy*>(&policy); d && d->has_ema()) {
    if (fs::exists(dir / "ema.safetensors")) copy_named(d->ema_state_dict(), dir / "ema.safetensors");
    else copy_named(d->ema_state_dict(), dir / "model.safetensors");  // start the EMA at the weights
  }
#endif
}

}  // namespace robotrain::train

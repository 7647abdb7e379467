#include "train/policy_io.h"

#include "policy/factory.h"
#include "policy/pretrained.h"
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

}  // namespace

util::Json read_policy_config(const fs::path& pretrained_dir) {
  fs::path f = pretrained_dir / "config.json";
  if (!fs::is_regular_file(f))
    throw util::InputError(util::cat(pretrained_dir.string(), ": no config.json; give a pretrained_model directory"));
  return util::read_json_file(f);
}

std::shared_ptr<policy::Policy> build_policy(const Json& config, const dataset::DatasetMeta& meta,
                                             bool use_imagenet_stats) {
  auto p = policy::make_policy(config, meta, use_imagenet_stats);
  check_known_fields(config, p->config_json(), "");
  return p;
}

void save_policy(policy::Policy& policy, const fs::path& dir, const dataset::DatasetMeta& meta, bool use_imagenet_stats) {
  // config.json, model.safetensors and the processor files with the normaliser stats.
  policy::save_pretrained(policy, dir);
#ifdef ROBOTRAIN_HAVE_DIFFUSION
  if (auto* d = dynamic_cast<policy::diffusion::DiffusionPolicy*>(&policy); d && d->has_ema())
    save_tensor_file(dir / "ema.safetensors", d->ema_state_dict());
#endif
  (void)meta, (void)use_imagenet_stats;
}

#ifdef ROBOTRAIN_HAVE_DIFFUSION
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
#endif

void load_policy_weights(policy::Policy& policy, const fs::path& dir) {
  policy::load_pretrained_weights(policy, dir);
#ifdef ROBOTRAIN_HAVE_DIFFUSION
  if (auto* d = dynamic_cast<policy::diffusion::DiffusionPolicy*>(&policy); d && d->has_ema()) {
    if (fs::exists(dir / "ema.safetensors")) copy_named(d->ema_state_dict(), dir / "ema.safetensors");
    else copy_named(d->ema_state_dict(), dir / "model.safetensors");  // start the EMA at the weights
  }
#endif
}

}  // namespace robotrain::train

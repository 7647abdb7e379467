#include "train/policy_io.h"

#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

#if __has_include("policy/factory.h") && __has_include("policy/pretrained.h")
#define ROBOTRAIN_HAVE_POLICY_FACTORY 1
#include "policy/factory.h"
#include "policy/pretrained.h"
#endif

namespace robotrain::train {

namespace fs = std::filesystem;

namespace {

// Every key the user set must exist in the policy's complete config (draccus rejects
// unknown fields too); nested objects are checked key by key.
void check_known_fields(const util::Json& given, const util::Json& complete, const std::string& prefix) {
  for (auto& [k, v] : given.items()) {
    auto it = complete.find(k);
    if (it == complete.end())
      throw util::InputError(util::cat("--policy.", prefix, k, ": the ", complete.value("type", std::string("policy")),
                                       " config has no field '", prefix, k, "'"));
    if (v.is_object() && it->is_object() && !it->empty()) check_known_fields(v, *it, prefix + k + ".");
  }
}

}  // namespace

util::Json read_policy_config(const fs::path& pretrained_dir) {
  fs::path f = pretrained_dir / "config.json";
  if (!fs::is_regular_file(f))
    throw util::InputError(util::cat(pretrained_dir.string(), ": no config.json; give a pretrained_model directory"));
  return util::read_json_file(f);
}

#ifdef ROBOTRAIN_HAVE_POLICY_FACTORY

std::shared_ptr<policy::Policy> build_policy(const util::Json& config, const dataset::DatasetMeta& meta,
                                             bool use_imagenet_stats) {
  auto p = policy::make_policy(config, meta, use_imagenet_stats);
  check_known_fields(config, p->config_json(), "");
  return p;
}

void save_policy(policy::Policy& policy, const fs::path& pretrained_dir) { policy::save_pretrained(policy, pretrained_dir); }

void load_policy_weights(policy::Policy& policy, const fs::path& pretrained_dir) {
  policy::load_pretrained_weights(policy, pretrained_dir);
}

#else

std::shared_ptr<policy::Policy> build_policy(const util::Json& config, const dataset::DatasetMeta&, bool) {
  (void)check_known_fields;
  throw util::InputError(util::cat("policy type '", config.value("type", std::string()),
                                   "' is not available in this build (no policy factory)"));
}

void save_policy(policy::Policy&, const fs::path&) { throw util::RuntimeError("no policy factory in this build"); }

void load_policy_weights(policy::Policy&, const fs::path&) { throw util::RuntimeError("no policy factory in this build"); }

#endif

}  // namespace robotrain::train

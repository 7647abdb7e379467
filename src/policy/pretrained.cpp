#include "policy/pretrained.h"

#include <algorithm>
#include <set>

#include "policy/factory.h"
#include "policy/normalizer.h"
#include "policy/tensor_io.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace robotrain::policy {

namespace fs = std::filesystem;

void save_pretrained(Policy& policy, const fs::path& dir, const util::Json& train_extras) {
  fs::create_directories(dir);
  auto config = policy.config_json();
  util::write_json_file(dir / "config.json", config);
  util::write_json_file(dir / kRobotrainFile, util::Json{{"format", "robotrain-pretrained/1"},
                                                         {"policy", policy.robotrain_config()},
                                                         {"train", train_extras}});
  save_tensors(dir / "model.safetensors", policy.lerobot_state_dict());
  for (auto& [file, tensors] : policy.extra_weight_files()) save_tensors(dir / file, tensors);
  std::vector<PolicyFeature> features = features_from_json(config["input_features"], "input_features");
  auto outputs = features_from_json(config["output_features"], "output_features");
  features.insert(features.end(), outputs.begin(), outputs.end());
  std::vector<std::pair<std::string, std::string>> mapping;
  if (config.contains("normalization_mapping"))
    for (auto& [k, v] : config["normalization_mapping"].items()) mapping.emplace_back(k, v.get<std::string>());
  std::string device = config.contains("device") && config["device"].is_string() ? config["device"].get<std::string>() : "cpu";
  Normalizer(features, mapping, policy.normalization_stats()).save(dir, device);
}

fs::path resolve_pretrained_dir(const fs::path& p) {
  auto is_model = [](const fs::path& d) { return fs::exists(d / "config.json") && fs::exists(d / "model.safetensors"); };
  if (is_model(p)) return p;
  if (is_model(p / "pretrained_model")) return p / "pretrained_model";
  for (fs::path checkpoints : {p, p / "checkpoints"}) {
    if (!fs::is_directory(checkpoints)) continue;
    if (is_model(checkpoints / "last" / "pretrained_model")) return checkpoints / "last" / "pretrained_model";
    std::vector<fs::path> steps;
    for (auto& e : fs::directory_iterator(checkpoints))
      if (e.is_directory() && is_model(e.path() / "pretrained_model")) steps.push_back(e.path());
    if (!steps.empty()) return *std::max_element(steps.begin(), steps.end()) / "pretrained_model";
  }
  throw util::InputError("no pretrained model at " + p.string() +
                         ": expected a directory with config.json and model.safetensors (a checkpoint's pretrained_model/)");
}

std::shared_ptr<Policy> load_pretrained(const fs::path& path, const torch::Device& device) {
  fs::path dir = resolve_pretrained_dir(path);
  auto config = read_policy_config(dir);
  auto policy = make_policy_with_stats(config, Normalizer::load_stats(dir));
  load_pretrained_weights(*policy, dir);
  policy->to(device);
  return policy;
}

void load_pretrained_weights(Policy& policy, const fs::path& path) {
  fs::path dir = resolve_pretrained_dir(path);
  auto file = dir / "model.safetensors";
  auto target = policy.lerobot_state_dict();
  auto source = load_tensors(file);
  std::set<std::string> known;
  for (auto& [name, t] : target) known.insert(name);
  std::vector<std::string> unexpected;
  for (auto& [name, t] : source)
    if (!known.count(name)) unexpected.push_back(name);
  assign_state(target, source, file.string());
  for (auto& [name, tensors] : policy.extra_weight_files()) {
    const fs::path extra = dir / name;
    if (fs::exists(extra)) assign_state(tensors, load_tensors(extra), extra.string(), false);
    else assign_state(tensors, source, file.string());
  }
  if (!unexpected.empty())
    util::log_warn(file.string(), ": ignored ", unexpected.size(), " tensors this ", policy.type(), " policy does not have: ",
                   util::join(std::vector<std::string>(unexpected.begin(), unexpected.begin() + std::min<size_t>(unexpected.size(), 8)), ", "),
                   unexpected.size() > 8 ? ", ..." : "");
}

}  // namespace robotrain::policy

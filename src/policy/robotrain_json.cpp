#include "policy/robotrain_json.h"

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy {

util::Json read_robotrain_section(const std::filesystem::path& dir, const std::string& section) {
  const std::filesystem::path file = dir / kRobotrainFile;
  if (!std::filesystem::is_regular_file(file)) return util::Json::object();
  auto j = util::read_json_file(file);
  auto it = j.is_object() ? j.find(section) : j.end();
  if (it == j.end() || it->is_null()) return util::Json::object();
  if (!it->is_object())
    throw util::InputError(util::cat(file.string(), ": '", section, "' must be a JSON object; fix or remove the file"));
  return *it;
}

util::Json read_policy_config(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "config.json";
  if (!std::filesystem::is_regular_file(file))
    throw util::InputError(util::cat(dir.string(), ": no config.json; give a pretrained_model directory"));
  auto config = util::read_json_file(file);
  if (!config.is_object()) throw util::InputError(util::cat(file.string(), ": expected a JSON object"));
  const util::Json extras = read_robotrain_section(dir, "policy");  // named: items() must not outlive it
  for (auto& [k, v] : extras.items()) config[k] = v;
  return config;
}

}  // namespace robotrain::policy

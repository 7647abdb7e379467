#include "track/run_context.h"

#include <pwd.h>
#include <unistd.h>

#include "util/process.h"

namespace robotrain::track {

std::string current_user() {
  for (const char* name : {"LOGNAME", "USER", "LNAME", "USERNAME"}) {
    auto v = util::get_env(name);
    if (v && !v->empty()) return *v;
  }
  if (auto* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "unknown";
}

std::map<std::string, std::string> default_run_tags(const std::string& run_name,
                                                    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> tags{{"mlflow.user", current_user()},
                                          {"mlflow.source.name", util::self_executable()},
                                          {"mlflow.source.type", "LOCAL"}};
  if (!run_name.empty()) tags["mlflow.runName"] = run_name;
  for (auto& [k, v] : extra) tags[k] = v;
  return tags;
}

}  // namespace robotrain::track

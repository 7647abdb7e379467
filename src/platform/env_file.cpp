#include "platform/env_file.h"

#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::platform {

std::map<std::string, std::string> parse_env_file_text(const std::string& text) {
  std::map<std::string, std::string> out;
  for (auto& raw : util::split(text, '\n')) {
    std::string line = util::trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (util::starts_with(line, "export ")) line = util::trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string key = util::trim(line.substr(0, eq));
    std::string value = util::trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = util::trim(value.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

std::map<std::string, std::string> load_env_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return {};
  return parse_env_file_text(util::read_file(path));
}

}  // namespace robotrain::platform

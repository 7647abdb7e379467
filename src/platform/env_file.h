#pragma once
// .env files as the seed's scripts source them: KEY=VALUE lines, optional `export `, quotes,
// comments. Values never override the real environment (command line > environment > .env).
#include <filesystem>
#include <map>
#include <string>

namespace robotrain::platform {

std::map<std::string, std::string> parse_env_file_text(const std::string& text);
// Missing file: empty map. Unreadable: RuntimeError.
std::map<std::string, std::string> load_env_file(const std::filesystem::path& path);

}  // namespace robotrain::platform

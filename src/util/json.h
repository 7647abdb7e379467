#pragma once
// One JSON type for the whole project. Ordered, because LeRobot's config.json and MLflow
// bodies are read by people and diffed by tests: insertion order is kept.
#include <filesystem>
#include <nlohmann/json.hpp>

namespace robotrain::util {

using Json = nlohmann::ordered_json;

// Reads and parses a JSON file; errors name the file and the parser's position.
Json read_json_file(const std::filesystem::path& path);
// Writes atomically (temp file + rename), pretty-printed with `indent` spaces.
void write_json_file(const std::filesystem::path& path, const Json& value, int indent = 4);

}  // namespace robotrain::util

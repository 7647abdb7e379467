#include "util/json.h"

#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::util {

Json read_json_file(const std::filesystem::path& path) {
  std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw RuntimeError(cat(path.string(), ": invalid JSON (", e.what(), ")"));
  }
}

void write_json_file(const std::filesystem::path& path, const Json& value, int indent) {
  atomic_write_file(path, value.dump(indent) + "\n");
}

}  // namespace robotrain::util

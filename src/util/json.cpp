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

namespace {

const Json& member_of_shape(const Json& j, const char* key, Json::value_t shape) {
  static const Json empty_object = Json::object(), empty_array = Json::array();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->type() == shape) return *it;
  }
  return shape == Json::value_t::object ? empty_object : empty_array;
}

}  // namespace

const Json& object_member(const Json& j, const char* key) { return member_of_shape(j, key, Json::value_t::object); }
const Json& array_member(const Json& j, const char* key) { return member_of_shape(j, key, Json::value_t::array); }

std::string string_member(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void write_json_file(const std::filesystem::path& path, const Json& value, int indent) {
  atomic_write_file(path, value.dump(indent) + "\n");
}

}  // namespace robotrain::util

#pragma once
// One JSON type for the whole project. Ordered, because LeRobot's config.json and MLflow
// bodies are read by people and diffed by tests: insertion order is kept.
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>

namespace robotrain::util {

// Every conversion to a type but an integer is nlohmann's own.
template <class T, class SFINAE = void>
struct JsonSerializer : nlohmann::adl_serializer<T, SFINAE> {};

// Reading a number into an integer checks that it fits. nlohmann converts with a plain cast:
// a float such as 1e300 read as int64_t is undefined behaviour, and 2^40 read as int wraps.
// JSON comes from files and servers we do not control, so a number that does not fit is a
// JSON out_of_range error (the callers' "malformed" path), never a wrong or undefined value.
// A float in range is truncated toward zero, as before.
template <class T>
struct JsonSerializer<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  template <class BasicJson>
  static void from_json(const BasicJson& j, T& out) {
    if (j.is_number_float()) {
      const double v = *j.template get_ptr<const typename BasicJson::number_float_t*>();
      const double bound = std::ldexp(1.0, std::numeric_limits<T>::digits);  // max + 1, exact
      const double lowest = std::is_signed_v<T> ? -bound : 0.0;
      if (!(v >= lowest && v < bound)) throw_does_not_fit(j);  // NaN fails both comparisons
      out = static_cast<T>(v);
    } else if (j.is_number_unsigned()) {
      out = checked(*j.template get_ptr<const typename BasicJson::number_unsigned_t*>(), j);
    } else if (j.is_number_integer()) {
      out = checked(*j.template get_ptr<const typename BasicJson::number_integer_t*>(), j);
    } else {
      nlohmann::adl_serializer<T>::from_json(j, out);  // booleans, and the type errors
    }
  }

  template <class BasicJson>
  static void to_json(BasicJson& j, T value) {
    nlohmann::adl_serializer<T>::to_json(j, value);
  }

 private:
  template <class N, class BasicJson>
  static T checked(N v, const BasicJson& j) {
    if (!std::in_range<T>(v)) throw_does_not_fit(j);
    return static_cast<T>(v);
  }

  template <class BasicJson>
  [[noreturn]] static void throw_does_not_fit(const BasicJson& j) {
    throw nlohmann::detail::out_of_range::create(
        406, "number " + j.dump() + " does not fit in a " + std::to_string(sizeof(T) * 8) +
                 (std::is_signed_v<T> ? "-bit integer" : "-bit unsigned integer"),
        &j);
  }
};

using Json = nlohmann::basic_json<nlohmann::ordered_map, std::vector, std::string, bool, std::int64_t,
                                  std::uint64_t, double, std::allocator, JsonSerializer>;

// Lenient readers of answers from servers: the member `key` when `j` is an object holding
// one of the wanted shape, else an empty object / array (never nlohmann's type_error 306).
const Json& object_member(const Json& j, const char* key);
const Json& array_member(const Json& j, const char* key);
// The member `key` when it is a string, else "".
std::string string_member(const Json& j, const char* key);

// Reads and parses a JSON file; errors name the file and the parser's position.
Json read_json_file(const std::filesystem::path& path);
// Writes atomically (temp file + rename), pretty-printed with `indent` spaces.
void write_json_file(const std::filesystem::path& path, const Json& value, int indent = 4);

}  // namespace robotrain::util

#pragma once
// One JSON type for the whole project. Ordered, because LeRobot's config.json and MLflow
// bodies are read by people and diffed by tests: insertion order is kept.
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace robotrain::util {

// The number `j` as a T when it fits (a float truncated toward zero); nullopt for a number out
// of T's range, NaN, or anything that is not a number. nlohmann's own conversion is a plain
// cast: undefined behaviour for 1e300 read as int64_t, and 2^40 read as int wraps.
template <class T, class BasicJson>
std::optional<T> integer_if_fits(const BasicJson& j) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (j.is_number_float()) {
    const double v = *j.template get_ptr<const typename BasicJson::number_float_t*>();
    const double bound = std::ldexp(1.0, std::numeric_limits<T>::digits);  // max + 1, exact
    const double lowest = std::is_signed_v<T> ? -bound : 0.0;
    if (!(v >= lowest && v < bound)) return std::nullopt;  // NaN fails both comparisons
    return static_cast<T>(v);
  }
  auto fitting = [](auto v) { return std::in_range<T>(v) ? std::optional<T>(static_cast<T>(v)) : std::nullopt; };
  if (j.is_number_unsigned()) return fitting(*j.template get_ptr<const typename BasicJson::number_unsigned_t*>());
  if (j.is_number_integer()) return fitting(*j.template get_ptr<const typename BasicJson::number_integer_t*>());
  return std::nullopt;
}

// Every conversion to a type but an integer is nlohmann's own.
template <class T, class SFINAE = void>
struct JsonSerializer : nlohmann::adl_serializer<T, SFINAE> {};

// Reading a number into an integer checks that it fits (integer_if_fits). JSON comes from files
// and servers we do not control, so a number that does not fit is a JSON out_of_range error
// (the callers' "malformed" path), never a wrong or undefined value.
template <class T>
struct JsonSerializer<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  template <class BasicJson>
  static void from_json(const BasicJson& j, T& out) {
    if (!j.is_number()) return nlohmann::adl_serializer<T>::from_json(j, out);  // booleans, and the type errors
    const std::optional<T> v = integer_if_fits<T>(j);
    if (!v)
      throw nlohmann::detail::out_of_range::create(
          406, "number " + j.dump() + " does not fit in a " + std::to_string(sizeof(T) * 8) +
                   (std::is_signed_v<T> ? "-bit integer" : "-bit unsigned integer"),
          &j);
    out = *v;
  }

  template <class BasicJson>
  static void to_json(BasicJson& j, T value) {
    nlohmann::adl_serializer<T>::to_json(j, value);
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

#pragma once
// Reading and range-checking one policy config field (the rows of config_table.h use these).
// Every range is checked before any cross-field rule (so `dim_model % n_heads` never runs with
// n_heads 0) and before the model is built. Reading config.json (or
// --policy.<field> overrides) never truncates: nlohmann's get<int>() turns 4294967298 into 2
// and 2.5 into 2, read_field() refuses both, naming the field.
#include <cstdint>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "util/json.h"

namespace robotrain::policy {

// InputError "<policy>: <field> must be in [min, max], got <value>".
void check_int_field(const char* policy, const char* field, int64_t value, int64_t min, int64_t max);
void check_real_field(const char* policy, const char* field, double value, double min, double max,
                      bool min_open = false, bool max_open = false);

// A JSON value as a field of type T, or an InputError naming the field and what it holds.
int64_t json_integer(const util::Json& v, const char* policy, const char* field, int64_t min, int64_t max);
double json_real(const util::Json& v, const char* policy, const char* field);
bool json_bool(const util::Json& v, const char* policy, const char* field);
std::string json_string(const util::Json& v, const char* policy, const char* field);
[[noreturn]] void throw_field_type(const char* policy, const char* field, const char* expected, const util::Json& got);

template <class T>
struct is_std_array : std::false_type {};
template <class E, size_t N>
struct is_std_array<std::array<E, N>> : std::true_type {};

template <class T>
T field_value(const util::Json& v, const char* policy, const char* field) {
  if constexpr (std::is_same_v<T, bool>) {
    return json_bool(v, policy, field);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(json_integer(v, policy, field, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(json_real(v, policy, field));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return json_string(v, policy, field);
  } else if constexpr (is_std_array<T>::value) {  // exactly N values
    if (!v.is_array() || v.size() != std::tuple_size<T>::value)
      throw_field_type(policy, field, std::tuple_size<T>::value == 2 ? "a list of 2 values" : "a fixed-size list", v);
    T out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = field_value<typename T::value_type>(v[i], policy, field);
    return out;
  } else {  // std::vector<E>
    if (!v.is_array()) throw_field_type(policy, field, "a list", v);
    T out;
    for (const auto& e : v) out.push_back(field_value<typename T::value_type>(e, policy, field));
    return out;
  }
}

// config.json's `key` into `field`: absent leaves the default; null is refused (the field is
// not optional).
template <class T>
void read_field(const util::Json& j, const char* policy, const char* key, T& field) {
  if (!j.contains(key)) return;
  if (j[key].is_null()) throw_field_type(policy, key, "a value", j[key]);
  field = field_value<T>(j[key], policy, key);
}

// An optional field: null clears it.
template <class T>
void read_field(const util::Json& j, const char* policy, const char* key, std::optional<T>& field) {
  if (!j.contains(key)) return;
  if (j[key].is_null()) field.reset();
  else field = field_value<T>(j[key], policy, key);
}

}  // namespace robotrain::policy

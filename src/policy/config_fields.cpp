#include "policy/config_fields.h"

#include <cmath>

#include "util/error.h"
#include "util/strings.h"

namespace robotrain::policy {

using util::cat;
using util::Json;

void check_int_field(const char* policy, const char* field, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max)
    throw util::InputError(cat(policy, ": ", field, " must be in [", min, ", ", max, "], got ", value,
                               " (set it with --policy.", field, ")"));
}

void check_real_field(const char* policy, const char* field, double value, double min, double max, bool min_open,
                      bool max_open) {
  const bool ok = std::isfinite(value) && (min_open ? value > min : value >= min) && (max_open ? value < max : value <= max);
  if (!ok)
    throw util::InputError(cat(policy, ": ", field, " must be in ", min_open ? "(" : "[", min, ", ", max, max_open ? ")" : "]",
                               ", got ", value, " (set it with --policy.", field, ")"));
}

void throw_field_type(const char* policy, const char* field, const char* expected, const Json& got) {
  std::string shown = got.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  throw util::InputError(cat(policy, ": ", field, " must be ", expected, ", got ", util::one_line(shown)));
}

int64_t json_integer(const Json& v, const char* policy, const char* field, int64_t min, int64_t max) {
  // 1e2 from a command line is a whole number; 2.5 is not. Beyond [min, max] (the field's C++
  // type) nlohmann would wrap the value silently.
  bool whole = v.is_number_integer();
  bool fits = false;
  int64_t i = 0;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= static_cast<uint64_t>(max);
    if (fits) i = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_number_integer()) {
    i = v.get<int64_t>();
    fits = i >= min && i <= max;
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    whole = std::isfinite(d) && d == std::floor(d);
    fits = whole && d >= static_cast<double>(min) && d <= static_cast<double>(max);
    if (fits) i = static_cast<int64_t>(d);
  }
  if (!whole) throw_field_type(policy, field, "an integer", v);
  if (!fits)
    throw util::InputError(cat(policy, ": ", field, " is out of range, got ", v.dump(), " (set it with --policy.", field, ")"));
  return i;
}

double json_real(const Json& v, const char* policy, const char* field) {
  if (!v.is_number()) throw_field_type(policy, field, "a number", v);
  return v.get<double>();
}

bool json_bool(const Json& v, const char* policy, const char* field) {
  if (!v.is_boolean()) throw_field_type(policy, field, "true or false", v);
  return v.get<bool>();
}

std::string json_string(const Json& v, const char* policy, const char* field) {
  if (!v.is_string()) throw_field_type(policy, field, "a string", v);
  return v.get<std::string>();
}

}  // namespace robotrain::policy

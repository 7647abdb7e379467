#pragma once
// A policy config written once, as a table: one row per config.json field (its key, the
// member it fills and, for numbers, the range it may hold). Writing config.json in LeRobot's
// field order, reading it with draccus' refusal of unknown fields, and the range checks are
// all derived from the rows, so adding a field to a policy is one row plus its use in the model.
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "policy/config_fields.h"
#include "policy/features.h"
#include "util/error.h"
#include "util/json.h"

namespace robotrain::policy {

// What a number may hold: [min, max], either end open when marked.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;
  bool max_open = false;
};

namespace table_detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_list : std::false_type {};
template <class T>
struct is_list<std::vector<T>> : std::true_type {};
template <class T, size_t N>
struct is_list<std::array<T, N>> : std::true_type {};

// Whether T is a number, or an optional or list of numbers: the fields a range applies to.
template <class T>
constexpr bool holds_numbers() {
  if constexpr (is_optional<T>::value || is_list<T>::value) return holds_numbers<typename T::value_type>();
  else return std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;
}

// Numbers, and the numbers inside an optional or a list, against the row's range.
template <class T>
void check_value(const char* policy, const char* key, const T& v, const Range& r) {
  if constexpr (is_optional<T>::value) {
    if (v) check_value(policy, key, *v, r);
  } else if constexpr (is_list<T>::value) {
    for (const auto& e : v) check_value(policy, key, e, r);
  } else if constexpr (std::is_integral_v<T>) {
    check_int_field(policy, key, v, static_cast<int64_t>(r.min), static_cast<int64_t>(r.max));
  } else if constexpr (std::is_floating_point_v<T>) {
    check_real_field(policy, key, v, r.min, r.max, r.min_open, r.max_open);
  }
}

template <class T>
util::Json to_json_value(const T& v) {
  if constexpr (is_optional<T>::value) return v ? util::Json(*v) : util::Json(nullptr);
  else return util::Json(v);
}

}  // namespace table_detail

// A field read and written as its C++ type (numbers never truncated, see config_fields.h).
template <class C, class T>
struct Field {
  const char* key;
  T C::*member;
  std::optional<Range> range;

  void write(util::Json& j, const C& c) const { j[key] = table_detail::to_json_value(c.*member); }
  void read(const util::Json& j, const char* policy, C& c) const { read_field(j, policy, key, c.*member); }
  void check(const char* policy, const C& c) const {
    if constexpr (table_detail::holds_numbers<T>())
      if (range) table_detail::check_value(policy, key, c.*member, *range);
  }
};

template <class C, class T>
Field<C, T> field(const char* key, T C::*member) {
  return {key, member, std::nullopt};
}
template <class C, class T>
Field<C, T> field(const char* key, T C::*member, Range range) {
  static_assert(table_detail::holds_numbers<T>(), "only numeric fields take a range");
  return {key, member, range};
}

// A field with its own JSON form (features, the normalization mapping, a value LeRobot
// spells differently). read_value runs only when the key is present.
template <class C>
struct CustomField {
  const char* key;
  util::Json (*write_value)(const C&);
  void (*read_value)(const util::Json& value, const char* policy, C& c);

  void write(util::Json& j, const C& c) const {
    if (write_value) j[key] = write_value(c);
  }
  void read(const util::Json& j, const char* policy, C& c) const {
    if (read_value && j.contains(key)) read_value(j.at(key), policy, c);
  }
  void check(const char*, const C&) const {}
};

// A key accepted on read and never written: what a newer LeRobot adds without changing the
// model (a Hub revision of pretrained_path, activation checkpointing).
template <class C>
CustomField<C> accepted(const char* key) {
  return {key, nullptr, nullptr};
}

// A row read and checked but never written to config.json: a robotrain-only setting, which
// LeRobot's parser would refuse (it goes to robotrain.json beside config.json).
template <class Row>
struct NotInConfigJson : Row {
  void write(util::Json&, const auto&) const {}
};
template <class Row>
NotInConfigJson<Row> robotrain_only(Row row) {
  return {row};
}

// PreTrainedConfig's fields, first in every policy's config.json (draccus dumps the base
// class first). Each policy keeps its own default for n_obs_steps, device and push_to_hub.
template <class C>
auto pretrained_config_rows(Range n_obs_steps) {
  return std::make_tuple(
      CustomField<C>{"type", [](const C&) { return util::Json(C::kType); },
                     [](const util::Json& v, const char* policy, C&) {
                       if (v != C::kType)
                         throw util::InputError(std::string(policy) + " config: type is " + v.dump() + ", expected \"" +
                                                C::kType + "\"");
                     }},
      field("n_obs_steps", &C::n_obs_steps, n_obs_steps),
      CustomField<C>{"input_features", [](const C& c) { return features_to_json(c.input_features); },
                     [](const util::Json& v, const char*, C& c) { c.input_features = features_from_json(v, "input_features"); }},
      CustomField<C>{"output_features", [](const C& c) { return features_to_json(c.output_features); },
                     [](const util::Json& v, const char*, C& c) { c.output_features = features_from_json(v, "output_features"); }},
      CustomField<C>{"device", [](const C& c) { return c.device.empty() ? util::Json(nullptr) : util::Json(c.device); },
                     [](const util::Json& v, const char* policy, C& c) {
                       if (!v.is_null()) c.device = json_string(v, policy, "device");
                     }},
      field("use_amp", &C::use_amp),
      // LeRobot would wrap the policy in PEFT adapters; robotrain trains every weight, so it
      // refuses rather than silently doing something else.
      CustomField<C>{"use_peft", [](const C& c) { return util::Json(c.use_peft); },
                     [](const util::Json& v, const char* policy, C& c) {
                       c.use_peft = json_bool(v, policy, "use_peft");
                       if (c.use_peft)
                         throw util::InputError(std::string(policy) +
                                                ": use_peft true (PEFT/LoRA fine-tuning) is not supported by robotrain, "
                                                "which trains every weight; set --policy.use_peft false");
                     }},
      // robotrain pushes nothing, and LeRobot refuses a config that asks to push without a
      // repo_id ("'policy.repo_id' argument missing") on --resume and --policy.path: written false.
      CustomField<C>{"push_to_hub", [](const C&) { return util::Json(false); },
                     [](const util::Json& v, const char* policy, C& c) { c.push_to_hub = json_bool(v, policy, "push_to_hub"); }},
      field("repo_id", &C::repo_id), field("private", &C::private_), field("tags", &C::tags), field("license", &C::license),
      field("pretrained_path", &C::pretrained_path));
}

// {"VISUAL": "MEAN_STD", ...} in the config's order.
template <class C>
CustomField<C> normalization_mapping_row() {
  return {"normalization_mapping",
          [](const C& c) {
            util::Json nm = util::Json::object();
            for (const auto& [k, v] : c.normalization_mapping) nm[k] = v;
            return nm;
          },
          [](const util::Json& v, const char* policy, C& c) {
            if (!v.is_object()) throw_field_type(policy, "normalization_mapping", "an object", v);
            c.normalization_mapping.clear();
            for (const auto& [k, mode] : v.items())
              c.normalization_mapping.emplace_back(k, json_string(mode, policy, "normalization_mapping"));
          }};
}

template <class C, class Rows>
class ConfigTable {
 public:
  ConfigTable(const char* policy, Rows rows) : policy_(policy), rows_(std::move(rows)) {}

  util::Json write(const C& c) const {
    util::Json j = util::Json::object();
    each([&](const auto& row) { row.write(j, c); });
    return j;
  }

  bool knows(const std::string& key) const {
    bool found = false;
    each([&](const auto& row) { found = found || key == row.key; });
    return found;
  }

  // Fills `c` from the keys present; other fields keep their defaults. A key of no row is an
  // InputError, as draccus refuses it (`lerobot_class` names where the valid keys are listed).
  void read(const util::Json& j, C& c, const char* lerobot_class) const {
    if (!j.is_object()) throw_field_type(policy_, "config.json", "a JSON object", j);
    for (const auto& [key, value] : j.items())
      if (!knows(key))
        throw util::InputError(std::string(policy_) + ": unknown config field '" + key + "' (see LeRobot's " +
                               lerobot_class + " for the field names)");
    try {
      each([&](const auto& row) { row.read(j, policy_, c); });
    } catch (const util::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw util::InputError(std::string(policy_) + ": a config field has the wrong type: " + e.what());
    }
  }

  void check(const C& c) const {
    each([&](const auto& row) { row.check(policy_, c); });
  }

 private:
  template <class F>
  void each(F&& f) const {
    std::apply([&](const auto&... row) { (f(row), ...); }, rows_);
  }

  const char* policy_;
  Rows rows_;
};

template <class C, class... Rows>
ConfigTable<C, std::tuple<Rows...>> make_table(const char* policy, std::tuple<Rows...> rows) {
  return {policy, std::move(rows)};
}

}  // namespace robotrain::policy

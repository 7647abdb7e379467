// check_mergeable: LeRobot's aggregate accepts sources only when fps, robot_type and the
// features dict are equal; we report the first difference by its JSON path so the user sees
// exactly which camera setting or joint name disagrees.
#include <cmath>

#include "dataset/merge.h"
#include "util/error.h"
#include "util/strings.h"

namespace robotrain::dataset {

using util::cat;

namespace {

struct Difference {
  std::string path;
  util::Json a, b;
};

// A key only one side has: a discarded value, shown as (absent) rather than as a JSON string.
const util::Json kAbsent(util::Json::value_t::discarded);

std::string shown(const util::Json& v) { return v.is_discarded() ? "(absent)" : v.dump(); }

// The first difference between two JSON values (object keys in a's order, then keys only b
// has); false when equal. Numbers compare by value (30 == 30.0).
bool first_difference(const util::Json& a, const util::Json& b, const std::string& path, Difference& d) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      const std::string p = path.empty() ? k : cat(path, ".", k);
      if (!b.contains(k)) {
        d = {p, v, kAbsent};
        return true;
      }
      if (first_difference(v, b[k], p, d)) return true;
    }
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) {
        d = {path.empty() ? k : cat(path, ".", k), kAbsent, v};
        return true;
      }
    return false;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (size_t i = 0; i < a.size(); ++i)
      if (first_difference(a[i], b[i], cat(path, "[", i, "]"), d)) return true;
    return false;
  }
  if (a.is_number() && b.is_number()) {
    if (a.get<double>() == b.get<double>()) return false;
  } else if (a == b) {
    return false;
  }
  d = {path, a, b};
  return true;
}

// Features as compared: LeRobot's v2.1 converter adds the dataset fps to every non-video
// feature, so "fps" equal to the dataset's is dropped - it says nothing new, and a converted
// dataset must still merge with the original it came from.
util::Json comparable_features(const DatasetMeta& m) {
  util::Json f = m.info.contains("features") ? m.info["features"] : util::Json::object();
  if (!f.is_object()) return f;
  for (auto& [k, v] : f.items())
    if (v.is_object() && v.contains("fps") && v["fps"].is_number() && std::abs(v["fps"].get<double>() - m.fps) < 1e-9)
      v.erase("fps");
  return f;
}

util::Json robot_type_of(const DatasetMeta& m) {
  return m.info.contains("robot_type") ? m.info["robot_type"] : util::Json();
}

}  // namespace

void check_mergeable(const std::vector<DatasetMeta>& metas) {
  if (metas.size() < 2) return;
  const DatasetMeta& first = metas.front();
  const util::Json ff = comparable_features(first);
  for (size_t i = 1; i < metas.size(); ++i) {
    const DatasetMeta& m = metas[i];
    Difference d;
    bool differ = false;
    if (first.fps != m.fps) {
      d = {"fps", first.fps, m.fps};
      differ = true;
    } else if (robot_type_of(first) != robot_type_of(m)) {
      d = {"robot_type", robot_type_of(first), robot_type_of(m)};
      differ = true;
    } else {
      differ = first_difference(ff, comparable_features(m), "features", d);
    }
    if (differ)
      throw util::InputError(cat("cannot merge ", m.root.string(), " into ", first.root.string(), ": ", d.path, " differs (",
                                 shown(d.a), " in ", first.root.string(), ", ", shown(d.b), " in ", m.root.string(),
                                 "); only datasets with the same fps, robot_type and features can be merged"));
  }
}

}  // namespace robotrain::dataset

#include "track/yaml_meta.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "track/entity_fields.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace robotrain::track {

namespace {

// Strings that a YAML 1.1 reader (PyYAML) would not read back as the same string when plain.
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  int64_t i;
  double d;
  if (util::parse_int64(s, i) || util::parse_double(s, d)) return true;
  static const char* special[] = {"null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE",
                                  "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
                                  "y", "Y", "n", "N", ".nan", ".inf", "-.inf", ".NaN", ".Inf"};
  for (auto* w : special)
    if (s == w) return true;
  return false;
}

YAML::Node load(const std::filesystem::path& file) {
  try {
    return YAML::Load(util::read_file(file));
  } catch (const YAML::Exception& e) {
    throw util::RuntimeError(util::cat(file.string(), ": invalid YAML (", e.what(), ")"));
  }
}

// meta.yaml's spelling of the fields entity_fields.h reads.
struct YamlFields {
  const YAML::Node& n;
  std::string text(const char* key) const {
    auto v = n[key];
    return !v || v.IsNull() ? "" : v.as<std::string>();
  }
  int64_t integer(const char* key) const {
    auto v = n[key];
    return !v || v.IsNull() ? -1 : v.as<int64_t>();
  }
  std::string run_status(const char* key) const {
    auto v = n[key];
    return !v || v.IsNull() ? "" : run_status_from_int(static_cast<int>(v.as<int64_t>()));
  }
};

// A meta.yaml document that must be a mapping; `what` names it in the error.
YAML::Node load_map(const std::filesystem::path& file, const char* what) {
  auto n = load(file);
  if (!n.IsMap()) throw util::RuntimeError(util::cat(file.string(), ": not an MLflow ", what, " meta.yaml"));
  return n;
}

}  // namespace

YamlField yaml_str(std::string key, std::string value) { return {YamlField::Kind::String, std::move(key), std::move(value)}; }
YamlField yaml_int(std::string key, int64_t value) { return {YamlField::Kind::Int, std::move(key), "", value}; }
YamlField yaml_opt_int(std::string key, int64_t value) {
  return value < 0 ? yaml_null(std::move(key)) : yaml_int(std::move(key), value);
}
YamlField yaml_null(std::string key) { return {YamlField::Kind::Null, std::move(key), ""}; }
YamlField yaml_empty_list(std::string key) { return {YamlField::Kind::EmptyList, std::move(key), ""}; }

std::string emit_flat_yaml(std::vector<YamlField> fields) {
  std::stable_sort(fields.begin(), fields.end(), [](auto& a, auto& b) { return a.key < b.key; });
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  out << YAML::BeginMap;
  for (auto& f : fields) {
    out << YAML::Key << f.key << YAML::Value;
    switch (f.kind) {
      case YamlField::Kind::String:
        if (needs_quotes(f.text)) out << YAML::SingleQuoted;
        out << f.text;
        break;
      case YamlField::Kind::Int: out << f.number; break;
      case YamlField::Kind::Null: out << YAML::Null; break;
      case YamlField::Kind::EmptyList: out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq; break;
    }
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string experiment_meta_yaml(const ExperimentInfo& e) {
  return emit_flat_yaml({yaml_str("artifact_location", e.artifact_location), yaml_opt_int("creation_time", e.creation_time),
                         yaml_str("experiment_id", e.experiment_id), yaml_opt_int("last_update_time", e.last_update_time),
                         yaml_str("lifecycle_stage", e.lifecycle_stage), yaml_str("name", e.name)});
}

ExperimentInfo parse_experiment_meta(const std::filesystem::path& file) {
  return experiment_from_fields(YamlFields{load_map(file, "experiment")});
}

std::string run_meta_yaml(const RunInfo& r, bool on_create) {
  std::vector<YamlField> f{yaml_str("artifact_uri", r.artifact_uri),
                           yaml_opt_int("end_time", r.end_time),
                           yaml_str("entry_point_name", ""),
                           yaml_str("experiment_id", r.experiment_id),
                           yaml_str("lifecycle_stage", r.lifecycle_stage),
                           yaml_str("run_id", r.run_id),
                           yaml_str("run_name", r.run_name),
                           yaml_str("run_uuid", r.run_id),
                           yaml_str("source_name", ""),
                           yaml_int("source_type", 4),  // SourceType.LOCAL
                           yaml_str("source_version", ""),
                           yaml_opt_int("start_time", r.start_time),
                           yaml_int("status", run_status_to_int(r.status)),
                           yaml_empty_list("tags"),
                           yaml_str("user_id", r.user_id)};
  if (on_create) f.push_back(yaml_null("deleted_time"));
  return emit_flat_yaml(std::move(f));
}

RunInfo parse_run_meta(const std::filesystem::path& file) { return run_info_from_fields(YamlFields{load_map(file, "run")}); }

}  // namespace robotrain::track

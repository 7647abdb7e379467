#pragma once
// meta.yaml documents of MLflow's file stores, written the way MLflow's PyYAML dump writes
// them (keys sorted, block style, null for None, '' for empty strings, numeric-looking
// strings quoted so they stay strings) and read back tolerantly (ints or strings for ids).
#include <filesystem>
#include <string>
#include <vector>

#include "track/entities.h"

namespace robotrain::track {

std::string experiment_meta_yaml(const ExperimentInfo& e);
ExperimentInfo parse_experiment_meta(const std::filesystem::path& file);

// on_create adds deleted_time: null, as MLflow's create_run does (updates omit it).
std::string run_meta_yaml(const RunInfo& r, bool on_create);
RunInfo parse_run_meta(const std::filesystem::path& file);

// A flat meta.yaml: ordered (key, value) pairs where value is a YAML scalar already typed by
// the helpers below. Used by the model registry documents.
struct YamlField {
  enum class Kind { String, Int, Null, EmptyList } kind;
  std::string key;
  std::string text;
  int64_t number = 0;
};
YamlField yaml_str(std::string key, std::string value);
YamlField yaml_int(std::string key, int64_t value);
YamlField yaml_opt_int(std::string key, int64_t value);  // -1 -> null
YamlField yaml_null(std::string key);
YamlField yaml_empty_list(std::string key);
// Emits fields sorted by key.
std::string emit_flat_yaml(std::vector<YamlField> fields);

}  // namespace robotrain::track

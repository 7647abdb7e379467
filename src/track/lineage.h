#pragma once
// Lineage of a registered checkpoint (dataset -> run -> model) as the seed system records it:
// small tags capped at 256 characters for Azure ML, the full record in azureml_lineage.json
// beside the weights.
#include <map>
#include <string>
#include <vector>

#include "util/json.h"

namespace robotrain::track {

inline constexpr size_t kRegistryTagMax = 256;

struct LineageInfo {
  std::string policy_type = "act";
  std::string job_name;
  std::string checkpoint;  // e.g. "005000"
  std::string source = "robotrain";
  std::string dataset_repo_id;
  // The directory the run trained on, and where it came from (local | huggingface |
  // azure-blob | azureml-data-asset | mixed; "" = inferred: local when the dataset has no Hub
  // repo id, or a name without an owner).
  std::string dataset_root;
  std::string dataset_source;
  std::vector<std::string> blob_urls;
  std::vector<std::string> dataset_assets;
  std::string azureml_run_id;
  std::string mlflow_run_id;
  std::string mlflow_experiment_id;
};

// sha256 of the compact, key-sorted, ASCII-escaped JSON (Python's json.dumps(sort_keys=True,
// separators=(",", ":"))).
std::string json_sha256(const util::Json& value);
// ≤ 256 chars: longer values keep their head and end with "...sha256:<16 hex of the value>".
std::string bounded_tag_value(const std::string& value);
// One entry: the bounded entry; several: "N <plural>; sha256:<16 hex of the JSON list>".
std::string source_list_tag(const std::vector<std::string>& values, const std::string& plural);

// dataset_source (azureml-data-asset | azure-blob | mixed | huggingface | local), dataset_uri
// (hf://OWNER/NAME, file:///PATH for a local dataset, ...),
// dataset_lineage_sha256, counts, run ids … every value bounded.
std::map<std::string, std::string> lineage_tags(const LineageInfo& info);
// The azureml_lineage.json document (sorted keys).
util::Json lineage_document(const LineageInfo& info);
std::string lineage_description(const LineageInfo& info);
// The registered model's own description (the versions carry lineage_description).
std::string registered_model_description(const LineageInfo& info);

}  // namespace robotrain::track

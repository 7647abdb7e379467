#include "track/lineage.h"

#include <nlohmann/json.hpp>

#include "track/file_store.h"
#include "util/crypto.h"
#include "util/strings.h"

namespace robotrain::track {

namespace {

struct DatasetSummary {
  std::string source_kind, uri, summary, hash;
  std::vector<std::string> lineage_uris;
};

// Hub dataset ids are OWNER/NAME; a local dataset has no id, or its directory's name.
bool is_local_dataset(const LineageInfo& l) {
  if (l.dataset_root.empty()) return false;
  if (!l.dataset_source.empty()) return l.dataset_source == "local";
  return l.dataset_repo_id.empty() || l.dataset_repo_id.find('/') == std::string::npos;
}

DatasetSummary summarize(const LineageInfo& l) {
  DatasetSummary d;
  auto joined = [](const std::vector<std::string>& v) { return v.size() == 1 ? v[0] : util::join(v, " "); };
  if (!l.dataset_assets.empty()) {
    d.uri = joined(l.dataset_assets);
    d.source_kind = "azureml-data-asset";
  }
  if (!l.blob_urls.empty() && d.uri.empty()) {
    d.uri = joined(l.blob_urls);
    d.source_kind = "azure-blob";
  }
  if (!l.dataset_assets.empty() && !l.blob_urls.empty()) {
    std::vector<std::string> all = l.dataset_assets;
    all.insert(all.end(), l.blob_urls.begin(), l.blob_urls.end());
    d.uri = util::join(all, " ");
    d.source_kind = "mixed";
  }
  if (d.uri.empty() && is_local_dataset(l)) {
    d.uri = path_to_file_uri(l.dataset_root);
    d.source_kind = "local";
  } else if (d.uri.empty() && !l.dataset_repo_id.empty()) {
    d.uri = "hf://" + l.dataset_repo_id;
    d.source_kind = "huggingface";
  }
  d.lineage_uris = l.dataset_assets;
  d.lineage_uris.insert(d.lineage_uris.end(), l.blob_urls.begin(), l.blob_urls.end());
  if (d.lineage_uris.empty() && !d.uri.empty()) d.lineage_uris = {d.uri};
  if (!d.lineage_uris.empty()) d.hash = json_sha256(d.lineage_uris);
  d.summary = d.uri;
  if (d.lineage_uris.size() > 1)
    d.summary = util::cat(d.source_kind, ": ", l.dataset_assets.size(), " data asset(s), ", l.blob_urls.size(),
                          " blob URL(s); sha256:", d.hash.substr(0, 16));
  return d;
}

}  // namespace

std::string json_sha256(const util::Json& value) {
  // nlohmann's unordered json sorts object keys; ensure_ascii matches Python's default.
  nlohmann::json sorted = nlohmann::json::parse(value.dump());
  return util::sha256_hex(sorted.dump(-1, ' ', true));
}

std::string bounded_tag_value(const std::string& value) {
  if (value.size() <= kRegistryTagMax) return value;
  std::string suffix = "...sha256:" + util::sha256_hex(value).substr(0, 16);
  return value.substr(0, kRegistryTagMax - suffix.size()) + suffix;
}

std::string source_list_tag(const std::vector<std::string>& values, const std::string& plural) {
  if (values.size() == 1) return bounded_tag_value(values[0]);
  return util::cat(values.size(), " ", plural, "; sha256:", json_sha256(values).substr(0, 16));
}

std::map<std::string, std::string> lineage_tags(const LineageInfo& l) {
  auto d = summarize(l);
  std::map<std::string, std::string> tags{{"framework", "lerobot"},
                                          {"policy_type", l.policy_type},
                                          {"job_name", l.job_name},
                                          {"checkpoint", l.checkpoint},
                                          {"source", l.source}};
  if (!d.source_kind.empty()) tags["dataset_source"] = d.source_kind;
  if (!d.summary.empty()) tags["dataset_uri"] = d.summary;
  if (!d.hash.empty()) {
    tags["dataset_lineage_sha256"] = d.hash;
    tags["dataset_uri_count"] = std::to_string(d.lineage_uris.size());
  }
  if (!l.dataset_repo_id.empty()) tags["dataset_repo_id"] = l.dataset_repo_id;
  if (!l.blob_urls.empty()) {
    tags["blob_url_count"] = std::to_string(l.blob_urls.size());
    tags["blob_urls"] = source_list_tag(l.blob_urls, "blob URLs");
  }
  if (!l.dataset_assets.empty()) {
    tags["dataset_asset_count"] = std::to_string(l.dataset_assets.size());
    tags["dataset_assets"] = source_list_tag(l.dataset_assets, "data assets");
  }
  if (!l.azureml_run_id.empty()) tags["azureml_run_id"] = l.azureml_run_id;
  if (!l.mlflow_run_id.empty()) tags["mlflow_run_id"] = l.mlflow_run_id;
  if (!l.mlflow_experiment_id.empty()) tags["mlflow_experiment_id"] = l.mlflow_experiment_id;
  for (auto& [k, v] : tags) v = bounded_tag_value(v);
  return tags;
}

util::Json lineage_document(const LineageInfo& l) {
  auto d = summarize(l);
  auto or_null = [](const std::string& s) { return s.empty() ? util::Json() : util::Json(s); };
  util::Json j;
  j["azureml_run_id"] = or_null(l.azureml_run_id);
  j["blob_urls"] = l.blob_urls;
  j["dataset"] = nullptr;
  j["dataset_assets"] = l.dataset_assets;
  j["dataset_repo_id"] = or_null(l.dataset_repo_id);
  j["dataset_source"] = or_null(d.source_kind);
  j["dataset_summary"] = or_null(d.summary);
  j["dataset_uri"] = or_null(d.uri);
  j["mlflow_experiment_id"] = or_null(l.mlflow_experiment_id);
  j["mlflow_run_id"] = or_null(l.mlflow_run_id);
  return j;
}

std::string lineage_description(const LineageInfo& l) {
  auto d = summarize(l);
  std::vector<std::string> lines{"LeRobot " + l.policy_type + " policy",
                                 "Job: " + l.job_name + " (checkpoint " + l.checkpoint + ")",
                                 "Lineage artifact: azureml_lineage.json"};
  if (!d.summary.empty()) lines.push_back("Dataset: " + bounded_tag_value(d.summary));
  if (!l.azureml_run_id.empty()) lines.push_back("AML run: " + l.azureml_run_id);
  return util::join(lines, "\n");
}

std::string registered_model_description(const LineageInfo& l) {
  return "LeRobot " + l.policy_type + " policy trained by " + l.source +
         "; each version's description and tags record its job, checkpoint and dataset lineage";
}

}  // namespace robotrain::track

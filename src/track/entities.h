#pragma once
// MLflow's tracking entities as plain structs, shared by the file store, the REST client and
// the CLI. Times are milliseconds since the epoch; -1 means "not set" (MLflow's null).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace robotrain::track {

struct ExperimentInfo {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage = "active";
  int64_t creation_time = -1;
  int64_t last_update_time = -1;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string status = "RUNNING";  // RUNNING SCHEDULED FINISHED FAILED KILLED
  int64_t start_time = -1;
  int64_t end_time = -1;
  std::string artifact_uri;
  std::string lifecycle_stage = "active";
};

struct MetricPoint {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
};

// A run with its data: params, tags and the latest value of every metric (MLflow's choice of
// "latest": highest step, then timestamp, then value).
struct RunRecord {
  RunInfo info;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> tags;
  std::map<std::string, MetricPoint> metrics;
};

// MLflow's run status enum as stored in the file store's meta.yaml.
int run_status_to_int(const std::string& status);
std::string run_status_from_int(int status);

}  // namespace robotrain::track

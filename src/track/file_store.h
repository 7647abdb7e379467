#pragma once
// MLflow's FileStore layout (mlflow/store/tracking/file_store.py), readable by
// `mlflow ui --backend-store-uri ./mlruns`:
//   <root>/<exp_id>/meta.yaml                 experiment (artifact_location, creation_time, …)
//   <root>/<exp_id>/tags/<key>                experiment tags
//   <root>/<exp_id>/<run_id>/meta.yaml        run info (status as MLflow's int enum)
//   <root>/<exp_id>/<run_id>/{metrics,params,tags}/<key>   "/" in a key = subdirectory
//   <root>/<exp_id>/<run_id>/artifacts/
//   <root>/.trash/                            deleted experiments
// Experiment "0" is "Default". Used by the local tracker, `robotrain runs` and the local
// model registry (<root>/models/, see local_registry.h).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "track/entities.h"

namespace robotrain::track {

class FileStore {
 public:
  // Creates the root with the Default experiment and .trash when missing (as MLflow does).
  explicit FileStore(std::filesystem::path root);
  const std::filesystem::path& root() const { return root_; }

  std::vector<ExperimentInfo> list_experiments() const;
  std::optional<ExperimentInfo> find_experiment_by_name(const std::string& name) const;
  ExperimentInfo get_experiment(const std::string& experiment_id) const;  // RuntimeError if absent
  // Returns the id of the active experiment with this name, creating it when missing.
  std::string get_or_create_experiment(const std::string& name);
  void set_experiment_tag(const std::string& experiment_id, const std::string& key, const std::string& value);

  // Creates a RUNNING run; tags get mlflow.runName added when absent.
  RunInfo create_run(const std::string& experiment_id, const std::string& run_name, const std::string& user_id,
                     int64_t start_time, const std::map<std::string, std::string>& tags);
  std::optional<RunInfo> find_run(const std::string& run_id) const;
  RunInfo get_run(const std::string& run_id) const;  // RuntimeError if absent
  std::vector<RunInfo> list_runs(const std::string& experiment_id) const;
  RunRecord read_run(const RunInfo& info) const;
  std::vector<MetricPoint> metric_history(const RunInfo& info, const std::string& key) const;

  void log_metric(const RunInfo& run, const MetricPoint& metric);
  // Params are write-once: logging a different value again is an error (as in MLflow).
  void log_param(const RunInfo& run, const std::string& key, const std::string& value);
  void set_tag(const RunInfo& run, const std::string& key, const std::string& value);
  // Sets status and end_time (rewrites meta.yaml atomically).
  RunInfo update_run(const std::string& run_id, const std::string& status, int64_t end_time);

  std::filesystem::path experiment_dir(const std::string& experiment_id) const { return root_ / experiment_id; }
  std::filesystem::path run_dir(const RunInfo& run) const { return root_ / run.experiment_id / run.run_id; }
  // Local directory behind the run's artifact_uri (file://…/artifacts).
  std::filesystem::path artifacts_dir(const RunInfo& run) const;

 private:
  void create_experiment_with_id(const std::string& id, const std::string& name);
  ExperimentInfo read_experiment(const std::filesystem::path& dir) const;
  RunInfo read_run_info(const std::filesystem::path& dir) const;
  void write_run_meta(const RunInfo& run, bool on_create) const;
  std::filesystem::path root_;
};

// "file:///abs/path" for a local path (MLflow's path_to_local_file_uri) and back.
std::string path_to_file_uri(const std::filesystem::path& path);
std::filesystem::path file_uri_to_path(const std::string& uri);
// Reads every file under dir (recursively) as key -> content, key = relative path with "/".
std::map<std::string, std::string> read_key_files(const std::filesystem::path& dir);

}  // namespace robotrain::track

#pragma once
// The embedded default: a run in a local MLflow FileStore (./mlruns). Writes are synchronous
// (local disk) and serialised, so the trainer and the system-metrics thread can share it.
#include <memory>
#include <mutex>

#include "track/file_store.h"
#include "track/tracker.h"

namespace robotrain::track {

class FileTracker : public Tracker {
 public:
  FileTracker(std::filesystem::path root, const TrackerOptions& options);
  std::string run_id() const override { return run_.run_id; }
  std::string experiment_id() const override { return run_.experiment_id; }
  void log_params(const std::map<std::string, std::string>& params) override;
  void set_tags(const std::map<std::string, std::string>& tags) override;
  void log_metrics(const std::map<std::string, double>& metrics, int64_t step, int64_t timestamp_ms = 0) override;
  void log_artifact(const std::filesystem::path& local, const std::string& artifact_path) override;
  void finish(RunStatus status) override;
  std::string tracking_uri() const override { return path_to_file_uri(store_.root()); }
  std::string artifact_uri() const override { return run_.artifact_uri; }
  FileStore& store() { return store_; }

 private:
  FileStore store_;
  RunInfo run_;
  std::mutex mutex_;
  bool finished_ = false;
};

// Copies `local` (file or directory) under `artifacts_root` the way MLflow's
// log_artifact/log_artifacts do: a file lands at <artifact_path>/<file name>, a directory's
// contents land at <artifact_path>/. Rejects artifact paths that escape the root.
void copy_artifact(const std::filesystem::path& local, const std::filesystem::path& artifacts_root,
                   const std::string& artifact_path);

std::string run_status_name(RunStatus status);

}  // namespace robotrain::track

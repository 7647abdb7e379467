#pragma once
// The embedded default: a run in a local MLflow FileStore (./mlruns). Writes are synchronous
// (local disk) and serialised, so the trainer and the system-metrics thread can share it. A
// write the disk refuses is handled like an unreachable server: journaled, one warning, and
// the run still ends with an honest status.
#include <functional>
#include <memory>
#include <mutex>

#include "track/file_store.h"
#include "track/journal.h"
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
  // Sets the status even on a full disk (in place when no temporary copy fits), then replays
  // any journaled calls; what still does not fit stays journaled, with a warning.
  void finish(RunStatus status) override;
  std::string tracking_uri() const override { return path_to_file_uri(store_.root()); }
  std::string artifact_uri() const override { return run_.artifact_uri; }
  FileStore& store() { return store_; }

 private:
  // Runs one store write; when the disk refuses it (full, quota, I/O error) the call goes to
  // the journal instead, and so does every later one: the metrics stay in order.
  void write(const std::function<void()>& to_store, const util::Json& journal_entry);
  // log_params and set_tags: `kind` ("param" or "tag") names the keys in errors, its plural
  // the log_batch field the journal records them in.
  using StoreKeyValue = void (FileStore::*)(const RunInfo&, const std::string&, const std::string&);
  void write_key_values(const std::string& kind, const std::map<std::string, std::string>& values, StoreKeyValue store_one);
  void start_journaling(const std::string& why);
  void journal(const util::Json& entry);
  FileStore store_;
  RunInfo run_;
  std::string experiment_name_, client_token_;
  JournalWriter journal_;
  std::mutex mutex_;
  bool finished_ = false;
  bool journaling_ = false;
  bool journal_failed_ = false;
};

// Copies `local` (file or directory) under `artifacts_root` the way MLflow's
// log_artifact/log_artifacts do: a file lands at <artifact_path>/<file name>, a directory's
// contents land at <artifact_path>/. Rejects artifact paths that escape the root.
void copy_artifact(const std::filesystem::path& local, const std::filesystem::path& artifacts_root,
                   const std::string& artifact_path);

std::string run_status_name(RunStatus status);

}  // namespace robotrain::track

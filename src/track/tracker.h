#pragma once
// Where a run's params, tags, metrics and artifacts go. Implementations: the local
// MLflow-compatible FileStore (embedded default, ./mlruns), the MLflow REST API (http(s)),
// Azure ML workspace tracking (azureml://). Calls never block on the network: remote
// trackers buffer and send from a background thread and journal to disk when the server is
// down.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace robotrain::track {

enum class RunStatus { Finished, Failed, Killed };

class Tracker {
 public:
  virtual ~Tracker() = default;
  // A remote run created while its server was unreachable has a client-side id
  // (offline-<token>) until the journal is replayed and the server's id is known.
  virtual std::string run_id() const = 0;
  virtual std::string experiment_id() const = 0;
  virtual void log_params(const std::map<std::string, std::string>& params) = 0;
  virtual void set_tags(const std::map<std::string, std::string>& tags) = 0;
  // timestamp_ms 0 = now.
  virtual void log_metrics(const std::map<std::string, double>& metrics, int64_t step, int64_t timestamp_ms = 0) = 0;
  // Copies a file or directory under the run's artifacts at artifact_path.
  virtual void log_artifact(const std::filesystem::path& local, const std::string& artifact_path) = 0;
  // Flushes everything and ends the run.
  virtual void finish(RunStatus status) = 0;
  // Where the run lives, for logs and reports ("" for the no-op tracker).
  virtual std::string tracking_uri() const { return ""; }
  virtual std::string artifact_uri() const { return ""; }
  // Blocks until every buffered call has reached the store (or the journal). Remote trackers
  // flush in the background; this is for checkpoints and tests.
  virtual void flush() {}
};

// Returns a bearer token for https://management.azure.com/ (azureml:// tracking and the Azure
// ML model registry). Used for azureml:// only (never sent to another server); unset, the
// shared Azure AD chain (util/azure_credential: workload identity, the Azure ML job's managed
// identity, IMDS, then `az`) provides it.
using AccessTokenProvider = std::function<std::string()>;

struct TrackerOptions {
  std::string tracking_uri;     // "" = $MLFLOW_TRACKING_URI or ./mlruns
  std::string experiment_name;  // "" = "Default"
  std::string run_name;
  // Attach to an existing run (e.g. Azure ML's MLFLOW_RUN_ID), or continue a run created
  // offline by its client-side id (offline-<token>, see journal.h).
  std::string run_id;
  bool disabled = false;        // a no-op tracker
  // Where calls that cannot be delivered (server unreachable, store's disk full) are journaled
  // ("" = ./.robotrain/mlflow-journal.jsonl; a training run uses OUTPUT/.robotrain/); the
  // tracker replays it once the destination works again, else `robotrain track sync --journal`.
  std::filesystem::path journal_path;
  // Remote trackers: while offline, how often the server is probed; at finish, how long the
  // server may take the last calls before they are journaled and the run ends anyway.
  double offline_probe_interval_s = 30;
  double finish_grace_s = 10;
  AccessTokenProvider access_token;  // azureml:// only; unset = util::azure_token_provider
  // Tags set when the run is created (in addition to mlflow.runName/user/source.*).
  std::map<std::string, std::string> tags;
  // Logs system/* metrics (cpu, memory, disk, GPUs) from a background thread.
  bool system_metrics = false;
  double system_metrics_interval_s = 30;
};

// Validates the URI (InputError on a malformed one) and opens/creates the run.
std::unique_ptr<Tracker> open_tracker(const TrackerOptions& options);

}  // namespace robotrain::track

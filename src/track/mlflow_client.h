#pragma once
// MLflow REST API 2.0 (mlflow/protos/service.proto, model_registry.proto) over util/http.h.
// Every call is synchronous; the buffering for training lives in RestTracker. Errors are
// classified by MLflow's error_code, not the HTTP status (proxies rewrite statuses).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "track/entities.h"
#include "track/tracker.h"
#include "util/error.h"
#include "util/http.h"
#include "util/json.h"

namespace robotrain::track {

class MlflowError : public util::RuntimeError {
 public:
  MlflowError(const std::string& message, std::string error_code, long status)
      : util::RuntimeError(message), error_code_(std::move(error_code)), status_(status) {}
  const std::string& error_code() const { return error_code_; }
  long status() const { return status_; }
  // True when the request may have had no effect and is worth retrying later (server busy or
  // unreachable): the journal keeps such calls.
  bool transient() const;

 private:
  std::string error_code_;
  long status_;
};

struct ModelVersionInfo {
  std::string name;
  std::string version;
  std::string source;
  std::string run_id;
  std::string status;  // PENDING_REGISTRATION FAILED_REGISTRATION READY
  int64_t creation_timestamp = -1;
  std::map<std::string, std::string> tags;
};

struct RegisteredModelInfo {
  std::string name;
  int64_t creation_timestamp = -1;
  int64_t last_updated_timestamp = -1;
  std::string description;
  std::vector<ModelVersionInfo> latest_versions;
};

class MlflowClient {
 public:
  // base_url: http(s)://host[/prefix] (azureml:// already mapped to https). Auth: the token
  // provider if given, else Basic MLFLOW_TRACKING_USERNAME/PASSWORD, else Bearer
  // MLFLOW_TRACKING_TOKEN. MLFLOW_TRACKING_INSECURE_TLS=true skips TLS verification.
  explicit MlflowClient(std::string base_url, AccessTokenProvider token = {});
  const std::string& base_url() const { return base_url_; }
  // Retries for every call except runs/create (guarded separately). Default: 7 retries,
  // 2·(1, 2, 4, …) s + ≤ 1 s jitter, 120 s per request.
  void set_retry_policy(const util::RetryPolicy& policy) { policy_ = policy; }
  const util::RetryPolicy& retry_policy() const { return policy_; }

  // POST/GET <base>/api/2.0/mlflow/<endpoint>. Throws MlflowError (or util::NetworkError).
  util::Json post(const std::string& endpoint, const util::Json& body) const;
  util::Json get(const std::string& endpoint, const std::vector<std::pair<std::string, std::string>>& query) const;

  std::optional<ExperimentInfo> get_experiment_by_name(const std::string& name) const;
  ExperimentInfo get_experiment(const std::string& experiment_id) const;
  std::vector<ExperimentInfo> search_experiments() const;
  // Race-safe: RESOURCE_ALREADY_EXISTS from create means another process won; get again.
  std::string get_or_create_experiment(const std::string& name) const;

  // runs/create is not idempotent: the run carries tag robotrain_client_token=<token>, and
  // after an ambiguous failure the experiment is searched for that token before re-creating.
  RunInfo create_run(const std::string& experiment_id, const std::string& run_name, int64_t start_time,
                     const std::map<std::string, std::string>& tags, const std::string& client_token) const;
  std::optional<RunInfo> find_run_by_client_token(const std::string& experiment_id, const std::string& token) const;
  RunRecord get_run(const std::string& run_id) const;
  std::vector<RunRecord> search_runs(const std::vector<std::string>& experiment_ids, const std::string& filter,
                                     int max_results = 1000) const;
  void update_run(const std::string& run_id, const std::string& status, int64_t end_time) const;
  // Splits into requests within MLflow's limits (1000 metrics / 100 params / 100 tags /
  // 1000 items / ~1 MB per request); params before tags before metrics.
  void log_batch(const std::string& run_id, const std::vector<MetricPoint>& metrics,
                 const std::vector<std::pair<std::string, std::string>>& params,
                 const std::vector<std::pair<std::string, std::string>>& tags) const;
  void set_tag(const std::string& run_id, const std::string& key, const std::string& value) const;
  std::vector<MetricPoint> metric_history(const std::string& run_id, const std::string& key) const;

  // Uploads a file or directory through the mlflow-artifacts proxy when the run's
  // artifact_uri is mlflow-artifacts:/…; copies when it is a reachable file:// path.
  // Returns false (with a warning) when the artifact store is not reachable this way.
  bool upload_artifacts(const std::string& artifact_uri, const std::filesystem::path& local,
                        const std::string& artifact_path) const;

  // Model registry.
  void create_registered_model(const std::string& name, const std::map<std::string, std::string>& tags) const;  // tolerates ALREADY_EXISTS
  ModelVersionInfo create_model_version(const std::string& name, const std::string& source, const std::string& run_id,
                                        const std::map<std::string, std::string>& tags) const;
  ModelVersionInfo get_model_version(const std::string& name, const std::string& version) const;
  std::optional<ModelVersionInfo> get_latest_version(const std::string& name) const;
  std::vector<RegisteredModelInfo> search_registered_models() const;
  RegisteredModelInfo get_registered_model(const std::string& name) const;
  std::vector<ModelVersionInfo> search_model_versions(const std::string& name) const;
  std::string get_model_version_download_uri(const std::string& name, const std::string& version) const;
  // Lists and downloads artifacts below an mlflow-artifacts:/ URI into dest.
  void download_artifacts(const std::string& artifact_uri, const std::filesystem::path& dest) const;

 private:
  util::HttpResponse send(util::HttpRequest request, const util::RetryPolicy& policy) const;
  util::Json parse_reply(const util::HttpRequest& request, const util::HttpResponse& response) const;
  std::vector<std::pair<std::string, std::string>> auth_headers() const;
  std::string artifacts_url(const std::string& artifact_uri, const std::string& rel) const;
  std::string base_url_;
  AccessTokenProvider token_;
  util::RetryPolicy policy_;
  bool insecure_tls_ = false;
};

// JSON forms used on the wire and in the journal.
util::Json metric_to_json(const MetricPoint& m);
MetricPoint metric_from_json(const util::Json& j);
RunInfo run_info_from_json(const util::Json& j);
RunRecord run_from_json(const util::Json& j);
ModelVersionInfo model_version_from_json(const util::Json& j);
// Reads an int64 that MLflow may send as a number or a string ("1700000000000").
int64_t json_int64(const util::Json& j, const char* key, int64_t fallback = -1);
// MLflow search filter string literal: 'value' with quotes escaped.
std::string mlflow_quote(const std::string& value);

}  // namespace robotrain::track

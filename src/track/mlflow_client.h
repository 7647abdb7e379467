#pragma once
// MLflow REST API 2.0 (mlflow/protos/service.proto, model_registry.proto) over util/http.h.
// Every call is synchronous; the buffering for training lives in RestTracker. Errors are
// classified by MLflow's error_code, not the HTTP status (proxies rewrite statuses).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "track/entities.h"
#include "track/mlflow_auth.h"
#include "track/tracker.h"
#include "track/tracking_uri.h"
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
  std::string description;
  std::map<std::string, std::string> tags;
};

struct RegisteredModelInfo {
  std::string name;
  int64_t creation_timestamp = -1;
  int64_t last_updated_timestamp = -1;
  std::string description;
  std::map<std::string, std::string> tags;
  std::vector<ModelVersionInfo> latest_versions;
};

// The call gave up: every retry the policy or the time budget allowed failed. Transient, so a
// tracker journals the call; a read command reports it as one line (exit 1).
class RetriesExhausted : public util::NetworkError {
 public:
  using util::NetworkError::NetworkError;
};

// Seconds an interactive read (runs, model, eval's registry calls) may spend on one call,
// retries included: $ROBOTRAIN_HTTP_BUDGET_S, default 30. InputError when malformed.
double interactive_budget_s();

class MlflowClient {
 public:
  // http(s):// authenticates with MLflow's own variables, azureml:// with the Azure token
  // (see mlflow_auth.h); azure_token is ignored for any other server.
  explicit MlflowClient(const TrackingTarget& target, AccessTokenProvider azure_token = {});
  // parse_tracking_uri(uri) first (InputError for a malformed URI).
  static MlflowClient for_uri(const std::string& tracking_uri, AccessTokenProvider azure_token = {});
  const std::string& base_url() const { return base_url_; }
  // Retries for every call. Default (training, registration): 7 retries,
  // 2·(1, 2, 4, …) s + ≤ 1 s jitter, 120 s per request.
  void set_retry_policy(const util::RetryPolicy& policy) { policy_ = policy; }
  const util::RetryPolicy& retry_policy() const { return policy_; }
  // A total time limit per call, retries and waiting included (0 = only the policy's limits);
  // the connection timeout becomes at most 5 s. Exceeding it throws RetriesExhausted.
  void set_budget_s(double seconds) { budget_s_ = seconds; }
  double budget_s() const { return budget_s_; }
  // For interactive reads: interactive_budget_s(), retries logged at debug level only, and one
  // final line naming the attempts.
  void make_interactive();
  // Polled during requests and before each retry: true abandons the call (NetworkError).
  void set_cancel(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }

  // POST/GET <base>/api/2.0/mlflow/<endpoint>. Throws MlflowError (or util::NetworkError).
  util::Json post(const std::string& endpoint, const util::Json& body) const;
  util::Json get(const std::string& endpoint, const std::vector<std::pair<std::string, std::string>>& query) const;
  // One request, no retries, short timeouts: is the server answering at all?
  bool reachable(double timeout_s = 5) const;

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

  // Model registry. Descriptions are set when the model or version is created; an existing
  // model keeps the description it has.
  void create_registered_model(const std::string& name, const std::map<std::string, std::string>& tags,
                               const std::string& description = "") const;  // tolerates ALREADY_EXISTS
  ModelVersionInfo create_model_version(const std::string& name, const std::string& source, const std::string& run_id,
                                        const std::map<std::string, std::string>& tags,
                                        const std::string& description = "") const;
  ModelVersionInfo get_model_version(const std::string& name, const std::string& version) const;
  std::optional<ModelVersionInfo> get_latest_version(const std::string& name) const;
  std::vector<RegisteredModelInfo> search_registered_models() const;
  RegisteredModelInfo get_registered_model(const std::string& name) const;
  std::vector<ModelVersionInfo> search_model_versions(const std::string& name) const;
  std::string get_model_version_download_uri(const std::string& name, const std::string& version) const;
  // Lists and downloads artifacts below an mlflow-artifacts:/ URI into dest.
  void download_artifacts(const std::string& artifact_uri, const std::filesystem::path& dest) const;

 private:
  // Auth, timeouts, budget and retries for one logical call; throws RetriesExhausted when
  // they run out, MlflowError for a final error reply of a retryable status.
  util::HttpResponse send(util::HttpRequest request) const;
  // Auth and timeouts only, no retries (runs/create drives its own retries).
  util::HttpResponse send_once(util::HttpRequest request) const;
  util::Json parse_reply(const util::HttpRequest& request, const util::HttpResponse& response) const;
  std::string artifacts_url(const std::string& artifact_uri, const std::string& rel) const;
  void prepare(util::HttpRequest& request) const;
  std::string base_url_;
  MlflowAuth auth_;
  util::RetryPolicy policy_;
  double budget_s_ = 0;
  bool quiet_retries_ = false;
  std::function<bool()> cancelled_;
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

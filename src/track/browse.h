#pragma once
// Read-only views over any tracking destination for the CLI (`robotrain runs`, `robotrain
// model`): the local file store and its registry, or an MLflow server (http(s)/azureml).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "track/entities.h"
#include "track/mlflow_client.h"
#include "track/tracker.h"

namespace robotrain::track {

class TrackingBrowser {
 public:
  // tracking_uri "" = $MLFLOW_TRACKING_URI or ./mlruns. The token is for azureml:// only
  // (without one the Azure CLI is asked); an MLflow server gets MLflow's own auth. Server
  // calls give up after ROBOTRAIN_HTTP_BUDGET_S (30 s) each.
  explicit TrackingBrowser(const std::string& tracking_uri, AccessTokenProvider token = {});
  const std::string& uri() const { return uri_; }
  std::vector<ExperimentInfo> experiments() const;
  // Newest first; experiment "" = every experiment.
  std::vector<RunRecord> runs(const std::string& experiment_name, int max_results = 1000) const;
  RunRecord run(const std::string& run_id) const;
  std::vector<RegisteredModelInfo> models() const;
  std::vector<ModelVersionInfo> versions(const std::string& name) const;
  // Copies models:/name/version into dest (created; must not exist or be empty).
  void download_model(const std::string& name, const std::string& version, const std::filesystem::path& dest) const;

 private:
  std::string uri_;
  std::optional<std::filesystem::path> root_;  // file store
  std::optional<MlflowClient> client_;
};

util::Json to_json(const RunRecord& run);
util::Json to_json(const ModelVersionInfo& version);

}  // namespace robotrain::track

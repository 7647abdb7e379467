#pragma once
// Registering a trained checkpoint (the pretrained_model directory) as the seed system does:
// lineage tags capped at 256 characters, azureml_lineage.json beside the weights, a
// description of the model and of the version, 3 attempts with doubling backoff, and a
// failure that fails the caller. Registry calls give up after ROBOTRAIN_HTTP_BUDGET_S (30 s)
// on an unreachable server instead of retrying for minutes. The registry follows the
// tracking destination: local file store → local registry (models:/NAME/VERSION), MLflow
// server → MLflow model registry, azureml:// → Azure ML model registry (custom_model, "_"
// in the name becomes "-").
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "track/lineage.h"
#include "track/tracker.h"

namespace robotrain::track {

struct RegisterOptions {
  std::string name;                             // --register-checkpoint (validated)
  std::filesystem::path pretrained_model_dir;   // config.json + model.safetensors
  LineageInfo lineage;
  // Added to the lineage tags of the version (e.g. quality_gate: none | max_action_mse<=X);
  // keys follow MLflow's rules, values are capped at 256 characters like the lineage's.
  std::map<std::string, std::string> version_tags;
  std::string tracking_uri;                     // "" = $MLFLOW_TRACKING_URI or ./mlruns
  AccessTokenProvider access_token;             // Azure ML only (an MLflow server gets MLflow's own auth)
  // MLflow server: the run's artifact_uri; the weights are uploaded under
  // registered_model/<checkpoint> there and the version's source points at them.
  std::string artifact_uri;
  // Azure ML: uploads the directory to workspace storage and returns the modelUri
  // (azureml://… or https blob folder). Provided by the storage area.
  std::function<std::string(const std::filesystem::path& dir, const std::string& model_name)> azureml_upload;
  std::string management_endpoint = "https://management.azure.com";  // tests point this elsewhere
  int attempts = 3;
  double initial_backoff_s = 1.0;
};

struct RegisteredModelVersion {
  std::string registry;  // local | mlflow | azureml
  std::string name;      // as registered (Azure ML: "_" → "-")
  std::string version;
  std::string uri;       // models:/NAME/VERSION or azureml:NAME:VERSION
  std::string source;    // where the weights live
  std::map<std::string, std::string> tags;
};

RegisteredModelVersion register_checkpoint(const RegisterOptions& options);

// Azure ML model registry REST (api-version 2024-04-01) for the workspace named in an
// azureml:// tracking URI.
struct AzureMlWorkspace {
  std::string subscription, resource_group, workspace;
};
AzureMlWorkspace workspace_from_tracking_uri(const std::string& azureml_uri);

}  // namespace robotrain::track

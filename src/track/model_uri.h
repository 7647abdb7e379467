#pragma once
// Registered-model names and warm-start sources (--register-checkpoint,
// --init-from-policy-model) under the seed system's rules: numeric canonical versions only, so
// a run is reproducible from its flags. Every rejection is a util::InputError naming the flag.
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "track/tracker.h"

namespace robotrain::track {

// ^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$ (spaces, "/", "@", leading "-" or ".", 256+ chars rejected).
void validate_register_name(const std::string& name, const std::string& flag = "--register-checkpoint");
// Azure ML model names use "-" where the register name has "_".
std::string azureml_model_name(const std::string& name);
// ^([1-9][0-9]*|0)$
bool is_canonical_version(const std::string& version);

enum class ModelSourceKind {
  AzureMlName,    // azureml:NAME:VERSION
  AzureMlUri,     // azureml://…/models/NAME/versions/VERSION (or azureml:/subscriptions/… ARM id)
  HttpsFolder,    // https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX holding config.json + model.safetensors
  MlflowRegistry, // models:/NAME/VERSION
  LocalPath,      // a directory (or file:// URI) holding config.json + model.safetensors
};

struct ModelSource {
  ModelSourceKind kind = ModelSourceKind::LocalPath;
  std::string uri;      // as given
  std::string name;     // registered model name (azureml / models:/)
  std::string version;  // canonical version (azureml / models:/)
  std::filesystem::path path;  // LocalPath
};

// Syntax only (no network, no file access): safe for submission-time checks.
ModelSource parse_warm_start_uri(const std::string& uri, const std::string& flag = "--init-from-policy-model");

// warm_start.source, warm_start.model_name, warm_start.model_version (when the source names a
// registered model).
std::map<std::string, std::string> warm_start_tags(const ModelSource& source);

// Turns a source into a local directory holding config.json + model.safetensors.
//  LocalPath: the directory itself (or its pretrained_model/ subdirectory).
//  MlflowRegistry: the local registry in the file store, or the MLflow server's registry
//                  (download into download_dir).
//  AzureMlName/AzureMlUri/HttpsFolder: the `remote` hook (storage area: Azure ML asset / blob
//                  download into download_dir); RuntimeError when no hook is given.
struct ResolveOptions {
  std::string tracking_uri;  // "" = $MLFLOW_TRACKING_URI or ./mlruns
  AccessTokenProvider access_token;
  std::filesystem::path download_dir;  // where remote sources are materialised
  std::function<std::filesystem::path(const ModelSource&, const std::filesystem::path& download_dir)> remote;
};
std::filesystem::path resolve_warm_start(const ModelSource& source, const ResolveOptions& options);

// Checks that dir holds a LeRobot pretrained model (config.json + model.safetensors).
void require_pretrained_model_dir(const std::filesystem::path& dir, const std::string& what);

}  // namespace robotrain::track

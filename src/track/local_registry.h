#pragma once
// The model registry inside the local MLflow file store, in MLflow's model-registry FileStore
// layout (mlflow/store/model_registry/file_store.py):
//   <root>/models/<name>/meta.yaml              creation_timestamp, description,
//                                               last_updated_timestamp, name
//   <root>/models/<name>/tags/<key>
//   <root>/models/<name>/version-<n>/meta.yaml  aliases, creation_timestamp, current_stage,
//       description, last_updated_timestamp, name, run_id, run_link, source, status READY,
//       status_message, storage_location, user_id, version
//   <root>/models/<name>/version-<n>/tags/<key>
// The weights are copied to <root>/models/<name>/version-<n>/model/ and `source` points
// there, so models:/NAME/VERSION resolves without the producing run's directory.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "track/mlflow_client.h"

namespace robotrain::track {

class LocalRegistry {
 public:
  explicit LocalRegistry(std::filesystem::path store_root);
  // Creates the registered model if needed and a new version holding a copy of model_dir.
  ModelVersionInfo register_version(const std::string& name, const std::filesystem::path& model_dir,
                                     const std::string& run_id, const std::map<std::string, std::string>& tags,
                                     const std::string& description);
  std::vector<RegisteredModelInfo> list_models() const;
  std::vector<ModelVersionInfo> list_versions(const std::string& name) const;  // ascending
  ModelVersionInfo get_version(const std::string& name, const std::string& version) const;
  // The local directory behind models:/name/version (RuntimeError when absent).
  std::filesystem::path model_dir(const std::string& name, const std::string& version) const;
  const std::filesystem::path& models_root() const { return models_; }

 private:
  std::filesystem::path models_;
};

}  // namespace robotrain::track

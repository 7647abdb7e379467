#pragma once
// Registering a checkpoint in the model registry the tracking URI points at (local file
// store, MLflow server, Azure ML workspace), with the seed system's lineage tags. Shared by
// `train --register-checkpoint` (after a successful run) and `eval --register-model` (after
// the evaluation passed its gate).
#include <map>
#include <string>
#include <vector>

#include "util/json.h"

namespace robotrain::cli {

struct RegistrationRequest {
  std::string name{};          // validated register name
  std::string pretrained_dir{};  // a checkpoint's pretrained_model directory
  std::string tracking_uri{};  // "" = $MLFLOW_TRACKING_URI or ./mlruns
  // The run the version is linked to (its artifact store receives the weights on an MLflow
  // server); empty when there is none.
  std::string run_id{}, experiment_id{}, artifact_uri{};
  std::vector<std::string> blob_urls{}, dataset_assets{};  // dataset lineage beyond train_config.json
  // local | huggingface | azure-blob | ...: where the training data came from ("" = inferred
  // from train_config.json: a dataset root without an OWNER/NAME repo id is local).
  std::string dataset_source{};
  // Extra tags on the new version, e.g. {"quality_gate", "none"} or the gate that passed.
  std::map<std::string, std::string> version_tags{};
};

// Returns {"registry", "name", "version", "uri"} of the new version. Throws RuntimeError when
// the registry refuses (after the registry client's own retries).
util::Json register_pretrained(const RegistrationRequest& request);

}  // namespace robotrain::cli

#pragma once
// Registering a checkpoint in the model registry the tracking URI points at (local file
// store, MLflow server, Azure ML workspace), with the seed system's lineage tags read from the
// checkpoint's train_config.json. Used by `train --register-checkpoint` (after a successful
// run, and for every checkpoint with --register-intermediate) and `eval --register-model`
// (after the evaluation passed its gate).
#include <map>
#include <string>
#include <vector>

#include "train/trainer.h"
#include "util/json.h"

namespace robotrain::train {

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

// A training run's checkpoints under one registered name, with the data lineage the run was
// given (TrainOptions::register_checkpoint names it).
struct CheckpointRegistration {
  std::vector<std::string> blob_urls, dataset_assets;
  bool intermediate = false;  // also every checkpoint before the last, as it is written
};

// With `intermediate`: sets options.on_checkpoint so that each checkpoint before the last is
// registered as it is written; a failure there is a warning (the run and its final
// registration go on).
void register_checkpoints_as_written(TrainOptions& options, const CheckpointRegistration& registration);

// The run's final checkpoint; RuntimeError when the run wrote none or the registry refused
// (a failure fails the job: the seed system's rule).
void register_final_checkpoint(const TrainOptions& options, const CheckpointRegistration& registration,
                               const TrainOutcome& outcome);

}  // namespace robotrain::train

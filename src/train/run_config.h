#pragma once
// Where a run's configuration starts before the flags change it: a checkpoint to continue
// (--resume, LeRobot's --config_path), another run's train_config.json (a new run with
// --config_path), and a pretrained policy's config.json (--policy.path / --policy-repo-id).
#include <filesystem>
#include <string>

#include "train/train_config.h"

namespace robotrain::train {

// --resume: the checkpoint's train_config.json (with robotrain.json's fields), output_dir set to
// where the run is now and resume_checkpoint to the step directory. `config_path` (a
// train_config.json, or the pretrained_model/ directory holding it) names the checkpoint;
// else `output_dir`'s checkpoints/last. InputError when neither is given, they name different
// runs, or the checkpoint is incomplete.
TrainConfig config_to_resume(const std::string& output_dir, const std::string& config_path);

// --config_path without --resume: a new run that starts from another run's configuration,
// with the episodes that run was given (its training and held-out ones) and no output_dir.
TrainConfig config_of_other_run(const std::string& config_path);

// The pretrained policy's config.json in `dir` (a pretrained_model/ directory or its parent)
// as the run's policy section, recorded with `pretrained_path` as LeRobot does.
void apply_pretrained_policy(TrainConfig& config, const std::filesystem::path& dir, const std::string& pretrained_path);

}  // namespace robotrain::train

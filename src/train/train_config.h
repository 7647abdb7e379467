#pragma once
// The whole training configuration, shaped like LeRobot's TrainPipelineConfig so that
// train_config.json reads the same as lerobot-train's and a run can be resumed from it.
// The policy section is kept as JSON (the policy's own config.json contents): every policy
// field can be overridden generically with --policy.<field> without this file knowing it.
#include <cstdint>
#include <map>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dataset/val_split.h"
#include "policy/optimizer_settings.h"
#include "util/json.h"

namespace robotrain::train {

// LeRobot's ImageTransformsConfig (datasets/transforms.py): a random subset of at most
// max_num_transforms of the weighted transforms below, per camera image per sample.
struct ImageTransformSpec {
  std::string name;   // "brightness", "contrast", "saturation", "hue", "sharpness", "affine"
  std::string type;   // "ColorJitter", "SharpnessJitter", "RandomAffine"
  double weight = 1.0;
  util::Json kwargs;  // e.g. {"brightness": [0.8, 1.2]}
};

struct ImageTransformsConfig {
  bool enable = false;
  int max_num_transforms = 3;
  bool random_order = false;
  std::vector<ImageTransformSpec> tfs = default_transforms();
  static std::vector<ImageTransformSpec> default_transforms();
};

struct DatasetConfig {
  // informative only: robotrain reads local roots. Empty for a local dataset, whose
  // train_config.json names it by its directory (LeRobot's DatasetConfig requires a repo_id).
  std::string repo_id;
  std::string root;
  std::optional<std::vector<int64_t>> episodes;
  ImageTransformsConfig image_transforms;
  std::string revision;
  bool use_imagenet_stats = true;
  // Which decoder LeRobot uses if it resumes this run (robotrain always decodes with FFmpeg
  // itself); "pyav" works on every LeRobot install, "torchcodec" where it is installed.
  std::string video_backend = "pyav";
  bool streaming = false;
};

// The optimizer and scheduler sections (LeRobot's AdamConfig / DiffuserSchedulerConfig), as
// the policies' presets give them (policy/optimizer_settings.h).
using policy::OptimizerConfig;
using policy::SchedulerConfig;

struct TrainConfig {
  DatasetConfig dataset;
  util::Json policy = util::Json::object();  // config.json of the policy ("type" first)
  std::string output_dir;
  std::string job_name;
  bool resume = false;
  int64_t seed = 1000;
  int num_workers = 4;
  int batch_size = 8;
  int64_t steps = 100000;
  int64_t eval_freq = 20000;
  int64_t log_freq = 200;
  double tolerance_s = 1e-4;
  bool save_checkpoint = true;
  int64_t save_freq = 20000;
  bool use_policy_training_preset = true;
  std::optional<OptimizerConfig> optimizer;
  std::optional<SchedulerConfig> scheduler;
  // robotrain's own settings (not in LeRobot's train_config.json; kept in training_state).
  std::string tracking_uri;
  std::string experiment_name;
  std::string policy_path;  // --policy.path: fine-tune from a pretrained_model directory
  // --config_path with --resume: the checkpoint step directory to continue from (LeRobot's
  // checkpoint_path); empty: the run's checkpoints/last.
  std::string resume_checkpoint;
  int num_threads = 0;      // 0 = hardware threads
  // --val-split: episodes held out for val/loss, chosen once when the run starts and kept
  // through resumes (robotrain.json's "train" section: LeRobot's train_config.json has no
  // such fields); `robotrain eval` replays val_episodes by default.
  double val_split = dataset::kDefaultValSplit;
  std::vector<int64_t> val_episodes;
  // Where the dataset came from (local | huggingface | azure-blob | azureml-data-asset |
  // mixed), kept in robotrain.json so that registration's lineage can tell a local directory
  // from a Hub dataset.
  std::string dataset_source;

  std::string policy_type() const;
  std::string policy_device() const;
};

// LeRobot's draccus dump: dataset, env, policy, output_dir, job_name, resume, seed, ...
util::Json to_json(const TrainConfig& config);
// Reads what to_json (or lerobot-train) wrote; unknown keys are ignored, missing keys default.
TrainConfig train_config_from_json(const util::Json& json);
// What train_config.json records as dataset.repo_id: the repo id, else the name of the local
// dataset's directory (the seed system's logical local dataset name), else null.
util::Json recorded_dataset_repo_id(const DatasetConfig& dataset);
// robotrain.json's "train" section: {"val_split", "val_episodes", "dataset_source"}, and back.
util::Json robotrain_train_json(const TrainConfig& config);
void apply_robotrain_train_json(TrainConfig& config, const util::Json& section);
// A checkpoint's pretrained_model/: train_config.json with robotrain.json's policy fields and
// held-out episodes merged in (what --resume continues from).
TrainConfig read_checkpoint_train_config(const std::filesystem::path& pretrained_dir);

util::Json to_json(const OptimizerConfig& config);
util::Json to_json(const SchedulerConfig& config);
util::Json to_json(const ImageTransformsConfig& config);

// Parses "--policy.<field>" style values: JSON literals (numbers, true/false, null, lists,
// objects) as such, anything else as a string.
util::Json parse_override_value(const std::string& text);
// Sets a dotted path ("normalization_mapping.VISUAL") inside `target`, creating objects.
void set_dotted(util::Json& target, const std::string& dotted_path, util::Json value);
// "[0, 2, 5]" or "0,2,5" → episode indices. InputError when malformed, negative or repeated.
std::vector<int64_t> parse_episode_list(const std::string& text);

}  // namespace robotrain::train

#pragma once
// Everything `robotrain submit azureml|osmo|local` and `robotrain pipeline` accept, with the
// seed system's names and defaults, and the checks it applies before anything is submitted.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataset/val_split.h"

namespace robotrain::platform {

enum class Platform { AzureML, Osmo, Local };
Platform parse_platform(const std::string& name);  // InputError for anything else
const char* platform_name(Platform p);

struct SubmitOptions {
  Platform platform = Platform::Local;
  // Dataset sources (at least one).
  std::string dataset_repo_id;              // HF repo id, or (local platform) a dataset path
  std::string dataset_root_path;            // --dataset.root: a local dataset directory
  std::vector<std::string> blob_urls;
  std::vector<std::string> dataset_assets;  // Azure ML only
  std::string dataset_root = "/workspace/data";  // where remote sources are materialised in the job

  std::string policy_type = "act";
  std::string job_name = "lerobot-act-training";
  std::string output_dir;  // default: /workspace/outputs/train (remote), outputs/train/<job> (local)
  std::string image;       // default: default_image()
  int64_t training_steps = 100000;
  int64_t batch_size = 32;
  std::optional<double> learning_rate;      // policy default when unset (seed: 1e-4)
  std::optional<int64_t> lr_warmup_steps;   // policy default when unset (seed: 1000)
  int64_t save_freq = 5000;
  std::optional<int64_t> eval_freq;
  std::optional<int64_t> log_freq;
  double val_split = dataset::kDefaultValSplit;
  bool val_split_enabled = true;
  bool system_metrics = true;
  int num_gpus = 1;
  std::string mixed_precision = "no";
  std::string osmo_platform = "gpu_platform";  // --platform (OSMO pool platform)
  std::string policy_repo_id;  // Hub model OWNER/NAME[@REV] the job fine-tunes from
  std::string init_from_policy_model;
  std::string register_checkpoint;
  std::string experiment_name;
  std::string display_name;
  std::string compute;
  std::string instance_type = "gpuspot";
  std::string subscription_id;
  std::string resource_group;
  std::string workspace_name;
  std::string environment_name = "robotrain";
  std::string environment_version;  // default: derived from the image
  std::string tracking_uri;         // local platform: where the run is tracked
  std::vector<std::string> extra_train_args;  // --train-arg, passed to `robotrain train`

  bool stream = false;
  bool config_preview = false;
  bool dry_run = false;
  std::string save_as;
  std::vector<std::string> forward_args;  // after "--": to az / osmo

  bool uses_huggingface() const;  // the dataset is a Hub dataset
  bool needs_hub_token() const;   // the job reads the Hub (its dataset or the --policy-repo-id policy): HF_TOKEN
  std::string dataset_source_tag() const;  // azure-blob | azureml-data-asset | mixed | huggingface | local
  std::string effective_output_dir() const;
  std::string effective_image() const;
  std::string effective_environment_version() const;
  std::string effective_experiment_name() const;  // lerobot-<policy>-<job> by default
};

// The container image robotrain jobs run in (built from the repo's Dockerfile).
std::string default_image();
// Azure ML environment version derived from an image reference: the tag, or the first 12
// hex digits of a digest, made safe for Azure ML version strings.
std::string environment_version_from_image(const std::string& image);

// Applies the seed system's rules in its order; the first failure is an InputError naming
// the option and how to fix it. Also fills defaults that depend on other options
// (dataset_repo_id "dataset" when only blob/asset sources are given).
void validate_submit_options(SubmitOptions& options);
// no | fp16 | bf16, as `train` and `submit` both take it; InputError otherwise.
void check_mixed_precision(const std::string& value);

// Azure context (subscription, resource group, workspace, compute): command line, then the
// environment, then a .env file, in that precedence.
void resolve_azure_context(SubmitOptions& options, const std::map<std::string, std::string>& dotenv);

// True for '/abs', './rel', '~/x' and file:// forms (a dataset given by path, local platform).
bool looks_like_local_path(const std::string& s);

// Human-readable settings table for --config-preview.
std::string config_preview_text(const SubmitOptions& options);

}  // namespace robotrain::platform

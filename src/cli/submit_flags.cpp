#include "cli/submit_flags.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "cli/pretrained_source.h"
#include "platform/azureml_job.h"
#include "platform/env_file.h"
#include "platform/job_control.h"
#include "platform/local_runner.h"
#include "util/error.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::cli {

using platform::Platform;

void SubmitFlags::add_to(CLI::App* c, Platform p, bool for_pipeline) {
  static const platform::SubmitOptions kDefaults{};  // help texts state the defaults from here
  c->add_option("-d,--dataset-repo-id,--dataset,--dataset.repo_id", o.dataset_repo_id,
                p == Platform::Local ? "HuggingFace dataset repo id, or a local dataset path" : "HuggingFace dataset repo id");
  c->add_option("--dataset.root,--dataset-path", o.dataset_root_path, "Local LeRobot dataset directory (local platform)");
  c->add_option("--blob-url", o.blob_urls, "Azure Blob dataset URL https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX (repeatable)");
  if (p != Platform::Osmo)
    c->add_option("--dataset-asset", o.dataset_assets, "Azure ML data asset azureml:NAME:VERSION (repeatable, max 64)");
  c->add_option("--dataset-root", o.dataset_root, "Where remote datasets are materialised inside the job")->capture_default_str();
  c->add_option("-p,--policy-type,--policy,--policy.type", o.policy_type, "act | diffusion")->capture_default_str();
  c->add_option("-j,--job-name", o.job_name, for_pipeline ? "Job name prefix" : "Job name")->capture_default_str();
  c->add_option("-o,--output-dir,--output_dir", o.output_dir, "Output directory of the training run");
  c->add_option("-i,--image", o.image, "Container image with robotrain (built from the repo's Dockerfile)");
  c->add_option("--training-steps,--steps", training_steps, util::cat("Total training steps (default ", kDefaults.training_steps, ")"));
  c->add_option("--batch-size,--batch_size", batch_size, util::cat("Batch size per GPU (default ", kDefaults.batch_size, ")"));
  c->add_option("--learning-rate", learning_rate, "Optimizer learning rate (default: the policy's preset)");
  c->add_option("--lr-warmup-steps", lr_warmup_steps, "Learning-rate warm-up steps (diffusion)");
  c->add_option("--save-freq,--save_freq", save_freq, util::cat("Checkpoint every N steps (default ", kDefaults.save_freq, ")"));
  c->add_option("--eval-freq,--eval_freq", eval_freq, "Validation every N steps");
  c->add_option("--log-freq,--log_freq", log_freq, "Metrics every N steps");
  c->add_option("--val-split", val_split, util::cat("Held-out episode fraction (default ", kDefaults.val_split, ")"));
  c->add_flag("--no-val-split", no_val_split, "Train on every episode");
  c->add_flag("--no-system-metrics", no_system_metrics, "Do not log system/* metrics");
  c->add_option("--num-gpus", num_gpus, util::cat("GPUs per node (default ", kDefaults.num_gpus, ")"));
  c->add_option("--mixed-precision", o.mixed_precision, "no | fp16 | bf16")->capture_default_str();
  c->add_option("--policy-repo-id", o.policy_repo_id, kPolicyRepoIdHelp);
  if (p != Platform::Osmo)
    c->add_option("--init-from-policy-model", o.init_from_policy_model,
                  "Warm-start weights: azureml:NAME:VERSION, azureml://.../models/NAME/versions/V, https blob folder, models:/NAME/V, path");
  c->add_option(for_pipeline ? "--register-checkpoint" : "-r,--register-checkpoint", o.register_checkpoint,
                "Register the final checkpoint under this model name");
  c->add_option("--experiment-name", o.experiment_name, "MLflow experiment (default lerobot-<policy>-<job>)");
  c->add_option("--display-name", o.display_name, "Display name (Azure ML)");
  if (p == Platform::Osmo || for_pipeline) c->add_option("--platform", o.osmo_platform, "OSMO pool platform")->capture_default_str();
  if (p == Platform::AzureML || for_pipeline) {
    c->add_option("--compute", o.compute, "Azure ML compute target (or AZUREML_COMPUTE)");
    c->add_option("--instance-type", o.instance_type, "Azure ML instance type")->capture_default_str();
    c->add_option("--environment-name", o.environment_name, "Azure ML environment name")->capture_default_str();
    c->add_option("--environment-version", o.environment_version, "Azure ML environment version (default: from the image)");
    c->add_flag("--via-rest", via_rest, "Submit through the Azure ML REST API instead of the az CLI");
  }
  if (p != Platform::Local || for_pipeline) {
    c->add_option("--subscription-id,--azure-subscription-id", o.subscription_id, "Azure subscription (or AZURE_SUBSCRIPTION_ID)");
    c->add_option("--resource-group,--azure-resource-group", o.resource_group, "Azure resource group (or AZURE_RESOURCE_GROUP)");
    c->add_option("--workspace-name,--azure-workspace-name", o.workspace_name, "Azure ML workspace (or AZUREML_WORKSPACE_NAME)");
  }
  if (p == Platform::Local || for_pipeline) c->add_option("--tracking-uri", o.tracking_uri, "MLflow tracking URI for the run");
  c->add_option("--train-arg", o.extra_train_args, "Extra argument passed to `robotrain train` (repeatable)");
  if (!for_pipeline) {
    c->add_flag("--stream", o.stream, "Follow the job's logs after submission");
    c->add_flag("--wait", wait, "Wait until the job ends; exit code reflects its outcome");
    c->add_option("-a,--save-as", o.save_as, "Write the job spec to FILE");
    c->add_flag("--config-preview", o.config_preview, "Print the resolved settings and exit");
    c->add_flag("--dry-run", o.dry_run, "Print the job spec and submit nothing");
    c->add_flag("--json", json, "Print the job record as JSON");
    c->add_option("forward", o.forward_args, "Arguments after -- go to the platform CLI (az ml job create / osmo workflow submit)");
  }
  c->add_option("--poll-interval", poll_interval_s, "Seconds between status checks")
      ->capture_default_str()
      ->transform(real_in(0.01, 86400));
  c->add_option("--env-file", env_file, "Environment file with Azure context")->capture_default_str();
  c->add_option("--jobs-dir", jobs_dir, "Job store directory (default $ROBOTRAIN_HOME/jobs or ~/.robotrain/jobs)");
  c->footer(
      "Settings not on the command line come from the environment, then the --env-file (the seed system's\n"
      "precedence): TRAINING_STEPS, BATCH_SIZE, SAVE_FREQ, EVAL_FREQ, LOG_FREQ, LEARNING_RATE, LR_WARMUP_STEPS,\n"
      "VAL_SPLIT, NUM_GPUS, and the Azure context AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,\n"
      "AZUREML_WORKSPACE_NAME, AZUREML_COMPUTE.");
}

namespace {

constexpr int64_t kMaxSteps = 1'000'000'000'000;

// These settings are strings (a flag, else the environment, else the .env file), so the flag
// layer cannot range-check them: done here, never truncated (4294967298 is not 2), naming
// where the value came from.
int64_t whole_number(const std::string& raw, const std::string& from, int64_t min, int64_t max) {
  int64_t v = 0;
  if (!util::parse_int64(util::trim(raw), v) || v < min || v > max)
    throw util::InputError(util::cat(from, min == 0 ? " must be a non-negative integer" : " must be a positive integer",
                                     " up to ", max, " (got '", util::one_line(raw, 40), "')"));
  return v;
}

int64_t positive_int(const std::string& raw, const std::string& from, int64_t max = kMaxSteps) {
  return whole_number(raw, from, 1, max);
}

}  // namespace

platform::SubmitOptions SubmitFlags::resolve(Platform p) {
  platform::SubmitOptions r = o;
  r.platform = p;
  const auto dotenv = platform::load_env_file(env_file);
  // The seed's precedence for the training settings too: command line, then the environment
  // (the variable the job itself gets, TRAINING_STEPS, ...), then the .env file. `from` is
  // what an error names.
  auto setting = [&](std::string& raw, const char* flag, const char* var) {
    std::string from = flag;
    if (!raw.empty()) return from;
    if (auto v = util::get_env(var); v && !v->empty()) {
      raw = *v;
      return std::string(var) + " (environment)";
    }
    if (auto it = dotenv.find(var); it != dotenv.end() && !it->second.empty()) {
      raw = it->second;
      return std::string(var) + " (" + env_file + ")";
    }
    return from;
  };
  auto int_setting = [&](std::string& raw, const char* flag, const char* var, int64_t max, auto assign) {
    std::string from = setting(raw, flag, var);
    if (!raw.empty()) assign(positive_int(raw, from, max));
  };
  int_setting(training_steps, "--training-steps", "TRAINING_STEPS", kMaxSteps, [&](int64_t v) { r.training_steps = v; });
  int_setting(batch_size, "--batch-size", "BATCH_SIZE", 65536, [&](int64_t v) { r.batch_size = v; });
  int_setting(save_freq, "--save-freq", "SAVE_FREQ", kMaxSteps, [&](int64_t v) { r.save_freq = v; });
  int_setting(eval_freq, "--eval-freq", "EVAL_FREQ", kMaxSteps, [&](int64_t v) { r.eval_freq = v; });
  int_setting(log_freq, "--log-freq", "LOG_FREQ", kMaxSteps, [&](int64_t v) { r.log_freq = v; });
  int_setting(num_gpus, "--num-gpus", "NUM_GPUS", 1024, [&](int64_t v) { r.num_gpus = static_cast<int>(v); });
  if (std::string from = setting(lr_warmup_steps, "--lr-warmup-steps", "LR_WARMUP_STEPS"); !lr_warmup_steps.empty())
    r.lr_warmup_steps = whole_number(lr_warmup_steps, from, 0, kMaxSteps);
  if (std::string from = setting(learning_rate, "--learning-rate", "LEARNING_RATE"); !learning_rate.empty()) {
    double v = 0;
    if (!util::parse_double(util::trim(learning_rate), v) || !(v > 0 && v <= 10))
      throw util::InputError(from + " must be a positive number up to 10 (got '" + util::one_line(learning_rate, 40) + "')");
    r.learning_rate = v;
  }
  if (std::string from = setting(val_split, "--val-split", "VAL_SPLIT"); !val_split.empty()) {
    double v = 0;
    if (!util::parse_double(util::trim(val_split), v) || !(v >= 0 && v < 1))
      throw util::InputError(from + " must be a number in [0, 1) (got '" + util::one_line(val_split, 40) + "')");
    r.val_split = v;
  }
  r.val_split_enabled = !no_val_split;
  r.system_metrics = !no_system_metrics;
  platform::resolve_azure_context(r, dotenv);
  platform::validate_submit_options(r);
  return r;
}

platform::SubmitHooks azure_submit_hooks() {
  platform::SubmitHooks h;
  h.azureml_endpoint = platform::azureml_management_endpoint();
  h.azure_token = azure_management_token_provider();
  return h;
}

int follow_job(const platform::JobStore& store, platform::JobRecord record, bool stream_logs, double poll_interval_s) {
  size_t printed = 0;
  while (true) {
    auto status = platform::refresh_status(store, record);
    if (stream_logs && record.platform == "local") {
      std::string log = platform::job_logs(store, record);
      if (log.size() > printed) {
        std::cout << log.substr(printed) << std::flush;
        printed = log.size();
      }
    }
    if (platform::is_terminal(status.state)) {
      std::cerr << "job " << record.id << ": " << platform::job_state_name(status.state) << "\n";
      return status.state == platform::JobState::Completed ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(poll_interval_s * 1000)));
  }
}

}  // namespace robotrain::cli

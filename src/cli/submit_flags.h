#pragma once
// The submission flags shared by `submit azureml|osmo|local` and `pipeline`, with the seed's
// long/short names, LeRobot's dotted aliases, and their precedence (flag > env > .env).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "platform/job_store.h"
#include "platform/submit_options.h"
#include "platform/submitter.h"

namespace robotrain::cli {

struct SubmitFlags {
  platform::SubmitOptions o;
  std::string training_steps, batch_size, save_freq, eval_freq, log_freq, learning_rate, lr_warmup_steps, val_split, num_gpus;
  bool no_val_split = false;
  bool no_system_metrics = false;
  bool via_rest = false;
  bool json = false;
  bool wait = false;
  double poll_interval_s = 10;
  std::string env_file = ".env";
  std::string jobs_dir;
  std::string platform_choice;  // pipeline: --platform-kind

  void add_to(CLI::App* cmd, platform::Platform p, bool for_pipeline = false);
  // Parses the raw numeric strings, applies env / .env, validates. InputError on failure.
  platform::SubmitOptions resolve(platform::Platform p);
};

// Azure credential for REST submission (AAD chain from the storage area).
platform::TokenProvider azure_management_token_provider();
platform::SubmitHooks azure_submit_hooks();

// Polls (and for local jobs streams the log) until the job ends; returns 0 when it completed.
int follow_job(const platform::JobStore& store, platform::JobRecord record, bool stream_logs, double poll_interval_s);

}  // namespace robotrain::cli

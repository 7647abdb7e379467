#pragma once
// `robotrain pipeline`: train -> wait -> evaluate -> register, on any platform, fixing the
// seed pipeline's bugs: poll by the id the platform returned, fail on a status that stays
// empty/unknown, evaluate the checkpoint just trained (not a hub id), and end with one summary.
// Registration follows a successful evaluation: when it passes the user's gate, or, with no
// gate given (the seed's `-r` alone), once training and evaluation both succeeded - recorded
// on the model version as quality_gate: none.
#include <functional>
#include <optional>
#include <string>

#include "platform/job_store.h"
#include "platform/submit_options.h"
#include "platform/submitter.h"
#include "util/json.h"

namespace robotrain::platform {

struct PipelineOptions {
  SubmitOptions train;             // platform, dataset, policy, steps, ...
  std::string job_prefix = "lerobot-pipeline";
  int eval_episodes = 10;
  bool skip_inference = false;
  bool skip_register = false;
  bool skip_wait = false;
  std::string register_model;      // -r/--register-model
  std::optional<double> min_success;     // closed-loop success rate gate (sim eval)
  std::optional<double> max_action_mse;  // offline replay gate
  std::string eval_env;            // "" = offline replay; "pusht" = closed-loop sim
  double poll_interval_s = 60;
  double timeout_min = 720;
  int unknown_status_limit = 5;    // consecutive empty/unknown statuses before giving up
};

struct PipelineResult {
  std::string train_job_id;
  std::string eval_job_id;
  std::string train_state;
  std::string checkpoint;          // what was evaluated
  util::Json train_metrics = util::Json::object();  // last logged training values
  util::Json eval = util::Json::object();           // the evaluation's result line
  bool gate_passed = false;
  std::string quality_gate = "none";  // "none", or the gate ("max_action_mse<=0.05", "min_success>=0.8")
  std::string registered_model;    // NAME:VERSION when registered
  bool submitted_only = false;     // --skip-wait
};

// The gate as recorded on the model version and printed: "none" without one.
std::string quality_gate_text(const PipelineOptions& options);

// Validates everything first (InputError before any submission).
void validate_pipeline_options(PipelineOptions& options);

// Runs the stages; `progress` receives one human line per stage transition.
PipelineResult run_pipeline(const JobStore& store, PipelineOptions options, const SubmitHooks& hooks,
                            const std::function<void(const std::string&)>& progress);

// Waits for a recorded job to reach a terminal state (timeout and unknown-status limits as
// above); returns the final state.
JobState wait_for_job(const JobStore& store, JobRecord& record, double poll_interval_s, double timeout_s, int unknown_limit,
                      const std::function<void(const std::string&)>& progress);

// "step:200 smpl:2K ep:4 epch:0.31 loss:0.512 grdn:..." -> {"step":200,"loss":0.512,...}
// from the last such line of a training log.
util::Json last_training_log_values(const std::string& log);
// The JSON after the last "robotrain-eval-result: " in an evaluation log.
util::Json eval_result_from_log(const std::string& log);

std::string pipeline_summary_text(const PipelineResult& result);

}  // namespace robotrain::platform

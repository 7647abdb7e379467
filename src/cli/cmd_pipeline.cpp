// `robotrain pipeline`: train -> wait -> evaluate -> register (the seed's
// run-lerobot-pipeline.sh, with its known bugs fixed), on local (default), azureml or osmo.
#include <iostream>
#include <limits>
#include <memory>

#include "cli/command.h"
#include "cli/submit_flags.h"
#include "platform/pipeline.h"
#include "util/error.h"
#include "util/log.h"

namespace robotrain::cli {
namespace {

struct PipelineFlags {
  SubmitFlags submit;
  platform::PipelineOptions p;
  std::string on = "local";
  double min_success = -1;
  double max_action_mse = -1;
  bool json = false;
};

void run(PipelineFlags& f) {
  auto platform_kind = platform::parse_platform(f.on);
  f.p.job_prefix = f.submit.o.job_name;
  f.p.poll_interval_s = f.submit.poll_interval_s;
  if (f.min_success >= 0) f.p.min_success = f.min_success;
  if (f.max_action_mse >= 0) f.p.max_action_mse = f.max_action_mse;
  f.submit.o.job_name = f.p.job_prefix + "-train";
  f.p.train = f.submit.resolve(platform_kind);
  platform::validate_pipeline_options(f.p);
  platform::JobStore store = f.submit.jobs_dir.empty() ? platform::JobStore() : platform::JobStore(f.submit.jobs_dir);
  auto hooks = azure_submit_hooks();
  hooks.force_rest = f.submit.via_rest;
  auto result = platform::run_pipeline(store, f.p, hooks, [](const std::string& line) { util::log_info(line); });
  if (result.submitted_only && f.json) {
    std::cout << util::Json{{"train_job_id", result.train_job_id}, {"submitted_only", true}}.dump(2) << "\n";
    return;
  }
  if (result.submitted_only) {
    std::cout << "Training submitted as " << result.train_job_id << ". Follow it with `robotrain jobs status " << result.train_job_id
              << "`; evaluate with `robotrain eval --policy.path <checkpoint>` when it completes.\n";
    return;
  }
  if (f.json) {
    util::Json j = {{"train_job_id", result.train_job_id}, {"train_state", result.train_state}, {"checkpoint", result.checkpoint},
                    {"train_metrics", result.train_metrics}, {"eval_job_id", result.eval_job_id}, {"eval", result.eval},
                    {"gate_passed", result.gate_passed}, {"quality_gate", result.quality_gate},
                    {"registered_model", result.registered_model}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << platform::pipeline_summary_text(result);
  }
}

CommandRegistrar reg(62, [](CLI::App& root) {
  auto* c = root.add_subcommand("pipeline", "Train, wait, evaluate and register in one command (local, azureml or osmo)");
  auto f = std::make_shared<PipelineFlags>();
  f->submit.o.job_name = "lerobot-pipeline";
  f->submit.poll_interval_s = 60;
  f->submit.add_to(c, platform::Platform::AzureML, true);
  c->add_option("--on", f->on, "Where to run: local (default), azureml, osmo")->capture_default_str();
  c->add_option("--eval-episodes", f->p.eval_episodes, "Episodes to evaluate")->capture_default_str()->transform(int_in(1, 100000));
  c->add_flag("--skip-inference", f->p.skip_inference, "Do not evaluate");
  c->add_option("-r,--register-model", f->p.register_model,
                "Register the evaluated checkpoint under this name: when it passes --max-action-mse / --min-success, or "
                "without a gate once training and evaluation succeeded (recorded as quality_gate: none)");
  c->add_flag("--skip-register", f->p.skip_register, "Never register");
  c->add_flag("--skip-wait", f->p.skip_wait, "Submit training and return (prints how to follow it)");
  c->add_option("--timeout", f->p.timeout_min, "Minutes to wait for each job")
      ->capture_default_str()
      ->transform(real_in(0.01, 366 * 24 * 60));
  c->add_option("--min-success", f->min_success, "Quality gate: minimum closed-loop success rate in [0,1] (with --eval-env)")
      ->transform(real_in(0, 1));
  c->add_option("--max-action-mse", f->max_action_mse, "Quality gate: maximum offline-replay action MSE")
      ->transform(real_in(0, std::numeric_limits<double>::max()));
  c->add_option("--eval-env", f->p.eval_env, "Evaluate in simulation (pusht) instead of offline replay");
  c->add_flag("--json", f->json, "Print the summary as JSON");
  c->callback([f] { run(*f); });
});

}  // namespace
}  // namespace robotrain::cli

// `robotrain eval`: offline replay of a trained policy on recorded episodes, or closed-loop
// evaluation in the Push-T simulator; metrics to files, MLflow, and one result line that the
// pipeline reads.
#include <torch/torch.h>

#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "cli/pretrained_source.h"
#include "train/registration.h"
#include "eval/replay_eval.h"
#include "eval/sim_eval.h"
#include "policy/pretrained.h"
#include "storage/dataset_source.h"
#include "track/journal.h"
#include "track/model_uri.h"
#include "track/tracker.h"
#include "util/error.h"
#include "util/log.h"

namespace robotrain::cli {
namespace {

struct EvalFlags {
  std::string policy_path, policy_revision, dataset_root, env, output_dir, device, register_name, tracking_uri, experiment, job_name = "robotrain-eval";
  int episodes = -1;
  uint64_t seed = 0;
  int parallel = 8;
  int videos = 2;
  bool expert = false;
  bool json = false;
  bool no_tracking = false;
  double max_action_mse = -1, min_success = -1;
  // Replay data from elsewhere, fetched the way `robotrain train` fetches it.
  storage::DatasetSources sources;
  std::string revision, blob_endpoint, download_dir;
  std::optional<PretrainedRef> pretrained;  // --policy.path, checked in validate()
};

std::string default_device() { return torch::cuda::is_available() ? "cuda" : "cpu"; }

void validate(EvalFlags& f) {
  storage::validate_dataset_sources(f.sources);
  if (!f.sources.empty() && !f.dataset_root.empty())
    throw util::InputError("--dataset.root and --dataset.repo_id/--blob-url/--dataset-asset both name the replay data: keep one");
  if (!f.sources.empty() && !f.env.empty())
    throw util::InputError("--env evaluates in simulation: drop --dataset.repo_id/--blob-url/--dataset-asset");
  if (!f.revision.empty() && f.sources.repo_id.empty()) throw util::InputError("--dataset.revision applies to --dataset.repo_id");
  if (f.env.empty() && f.dataset_root.empty() && f.sources.empty())
    throw util::InputError("nothing to evaluate on: pass --dataset.root PATH, --dataset.repo_id ID, --blob-url URL or --dataset-asset URI "
                           "(offline replay) or --env pusht (simulation)");
  if (!f.env.empty() && f.env != "pusht") throw util::InputError("--env '" + f.env + "' is not available: use pusht");
  if (f.expert && f.env.empty()) throw util::InputError("--expert evaluates the scripted Push-T expert: add --env pusht");
  if (!f.expert && f.policy_path.empty())
    throw util::InputError("--policy.path is required (a checkpoint's pretrained_model, a checkpoint or run directory, or a Hub model OWNER/NAME)");
  if (!f.policy_revision.empty() && f.policy_path.empty()) throw util::InputError("--policy.revision applies to --policy.path OWNER/NAME");
  if (!f.expert) f.pretrained = parse_pretrained_ref(f.policy_path, f.policy_revision, "--policy.path");
  if (f.max_action_mse >= 0 && !f.env.empty()) throw util::InputError("--max-action-mse gates offline replay; with --env use --min-success");
  if (f.min_success >= 0 && f.env.empty()) throw util::InputError("--min-success gates simulation; with --dataset.root use --max-action-mse");
  if (!f.register_name.empty()) {
    if (f.expert) throw util::InputError("--register-checkpoint needs a policy checkpoint; the scripted expert cannot be registered");
    track::validate_register_name(f.register_name);
  }
  if (f.min_success > 1) throw util::InputError("--min-success is a rate in [0, 1]");
  if (f.episodes == -1) f.episodes = f.env.empty() ? 10 : 50;
  if (f.episodes < 1) throw util::InputError("--eval-episodes must be a positive integer");
  if (f.device.empty()) f.device = default_device();
  if (f.output_dir.empty()) f.output_dir = "outputs/eval/" + f.job_name;
}

// The gate registration waited for, as recorded on the version: "none" when -r came alone
// (registered because the evaluation itself succeeded).
std::string quality_gate(const EvalFlags& f) {
  std::ostringstream s;
  if (f.max_action_mse >= 0) s << "max_action_mse<=" << f.max_action_mse;
  else if (f.min_success >= 0) s << "min_success>=" << f.min_success;
  else s << "none";
  return s.str();
}

struct EvalRun {
  std::string run_id, experiment_id, artifact_uri;
};

EvalRun log_to_tracker(const EvalFlags& f, const util::Json& result, const std::string& policy_type,
                       const std::map<std::string, std::string>& source_tags) {
  if (f.no_tracking) return {};
  track::TrackerOptions to;
  to.tracking_uri = f.tracking_uri;
  to.experiment_name = f.experiment.empty() ? "robotrain-eval" : f.experiment;
  to.run_name = f.job_name;
  to.journal_path = track::journal_path_in(f.output_dir);  // undeliverable calls stay with the evaluation
  auto tracker = track::open_tracker(to);
  tracker->log_params({{"policy_path", f.policy_path}, {"policy_type", policy_type}, {"dataset", !f.env.empty() ? f.env : !f.sources.repo_id.empty() ? f.sources.repo_id : f.dataset_root},
                       {"eval_episodes", std::to_string(f.episodes)}, {"device", f.device}});
  std::map<std::string, double> m;
  if (result.contains("aggregate")) {
    for (auto& [k, v] : result["aggregate"].items())
      if (v.is_number()) m["aggregate_" + k] = v.get<double>();
    for (auto& e : result["episodes"])
      for (const char* k : {"mse", "mae", "avg_inference_ms", "throughput_hz"})
        m["ep" + std::to_string(e["episode_index"].get<int64_t>()) + "_" + k] = e[k].get<double>();
  } else {
    m["success_rate"] = result["policy"]["success_rate"].get<double>();
    m["avg_max_reward"] = result["policy"]["avg_max_reward"].get<double>();
  }
  tracker->log_metrics(m, 0);
  std::map<std::string, std::string> tags = source_tags;
  tags["robotrain.eval"] = f.env.empty() ? "replay" : "sim";
  tracker->set_tags(tags);
  tracker->log_artifact(f.output_dir, "eval");
  tracker->finish(track::RunStatus::Finished);
  return {tracker->run_id(), tracker->experiment_id(), tracker->artifact_uri()};
}

void run(EvalFlags& f) {
  validate(f);
  torch::manual_seed(static_cast<int64_t>(f.seed));
  std::shared_ptr<policy::Policy> pol;
  std::string pretrained;
  std::map<std::string, std::string> source_tags;
  if (!f.expert) {
    const PretrainedSource source = fetch_pretrained(*f.pretrained);
    source_tags = source.tags();
    pretrained = policy::resolve_pretrained_dir(source.dir).string();
    pol = policy::load_pretrained(pretrained);
  }
  if (f.env.empty() && f.dataset_root.empty()) {
    storage::FetchOptions fo;
    fo.output = f.download_dir;
    fo.hub.revision = f.revision;
    if (!f.blob_endpoint.empty()) fo.blob.endpoint = f.blob_endpoint;
    f.dataset_root = storage::fetch_dataset_sources(f.sources, fo).root.string();
  }
  util::Json result;
  bool passed = true;
  if (f.env.empty()) {
    eval::ReplayOptions o;
    o.episodes = f.episodes;
    o.output_dir = f.output_dir;
    o.device = f.device;
    o.policy_path = pretrained;
    result = eval::evaluate_replay(*pol, f.dataset_root, o);
    if (f.max_action_mse >= 0) passed = result["aggregate"]["mse"].get<double>() <= f.max_action_mse;
  } else {
    eval::SimEvalOptions o;
    o.episodes = f.episodes;
    o.seed = f.seed;
    o.parallel = f.parallel;
    o.videos = f.videos;
    o.output_dir = f.output_dir;
    o.device = f.device;
    result = eval::evaluate_pusht(pol.get(), o);
    if (f.min_success >= 0) passed = result["policy"]["success_rate"].get<double>() >= f.min_success;
  }
  EvalRun run = log_to_tracker(f, result, pol ? pol->type() : "expert", source_tags);
  util::Json line = {{"passed", passed}, {"registered", nullptr}, {"output_dir", f.output_dir}};
  if (result.contains("aggregate")) line["aggregate"] = result["aggregate"];
  else line["aggregate"] = {{"success_rate", result["policy"]["success_rate"]}, {"avg_max_reward", result["policy"]["avg_max_reward"]}};
  if (!f.register_name.empty()) {
    if (passed)
      line["registered"] = train::register_pretrained({.name = f.register_name,
                                                       .pretrained_dir = pretrained,
                                                       .tracking_uri = f.tracking_uri,
                                                       .run_id = run.run_id,
                                                       .experiment_id = run.experiment_id,
                                                       .artifact_uri = run.artifact_uri,
                                                       .version_tags = {{"quality_gate", quality_gate(f)}}});
    else util::log_warn("evaluation did not pass the gate: " + f.register_name + " not registered");
  }
  if (f.json) std::cout << result.dump(2) << "\n";
  else if (result.contains("aggregate"))
    std::cout << "replay: " << result["episodes"].size() << " episodes, mse " << result["aggregate"]["mse"].get<double>() << ", mae "
              << result["aggregate"]["mae"].get<double>() << ", " << result["aggregate"]["avg_inference_ms"].get<double>()
              << " ms/action; report " << f.output_dir << "/report.html\n";
  else
    std::cout << "pusht: success " << result["policy"]["success_rate"].get<double>() << ", avg max reward "
              << result["policy"]["avg_max_reward"].get<double>() << " over " << f.episodes << " episodes (zero-motion baseline "
              << result["baseline_zero_motion"]["success_rate"].get<double>() << " / "
              << result["baseline_zero_motion"]["avg_max_reward"].get<double>() << "); " << f.output_dir << "/eval_info.json\n";
  // Pipelines read this line from job logs (stdout and stderr both land there); with --json
  // it goes to stderr so stdout stays one parseable document.
  (f.json ? std::cerr : std::cout) << "robotrain-eval-result: " << line.dump() << std::endl;
}

CommandRegistrar reg(40, [](CLI::App& root) {
  auto* c = root.add_subcommand("eval", "Evaluate a policy: offline replay on a dataset, or closed loop in Push-T");
  auto f = std::make_shared<EvalFlags>();
  c->add_option("--policy.path,--policy-path", f->policy_path,
                "pretrained_model dir, checkpoint dir, run output dir, or a Hugging Face Hub model OWNER/NAME[@REV]");
  c->add_option("--policy.revision,--policy-revision", f->policy_revision, "Hub branch, tag or commit of --policy.path (default main)");
  c->add_option("--dataset.root,--dataset-root", f->dataset_root, "LeRobot dataset to replay");
  c->add_option("--dataset.repo_id,--dataset-repo-id", f->sources.repo_id, "Replay a Hugging Face Hub dataset (hub cache)");
  c->add_option("--dataset.revision,--dataset-revision", f->revision, "Hub branch, tag or commit");
  c->add_option("--blob-url", f->sources.blob_urls, "Replay a dataset under an Azure Blob prefix (repeatable; merged)");
  c->add_option("--dataset-asset", f->sources.dataset_assets, "Replay an Azure ML data asset (repeatable; merged)");
  c->add_option("--blob-endpoint", f->blob_endpoint, "Blob service endpoint for emulators (Azurite)");
  c->add_option("--dataset-download-dir", f->download_dir, "Where fetched datasets go (default ~/.robotrain/datasets/...)");
  c->add_option("--env", f->env, "Simulation environment (pusht)");
  c->add_option("--eval-episodes,--eval.n_episodes", f->episodes, "Episodes to evaluate (replay 10, sim 50)")
      ->transform(int_in(1, 100000));
  c->add_option("--output_dir,--output-dir", f->output_dir, "Where results, plots, report and videos go");
  c->add_option("--seed", f->seed, "First episode seed (sim); deterministic per seed")
      ->capture_default_str()
      ->transform(int_in(0, 4294967295));
  c->add_option("--parallel-envs", f->parallel, "Environments stepped together (sim)")
      ->capture_default_str()
      ->transform(int_in(1, 1024));
  c->add_option("--videos", f->videos, "Rollout videos for the first N episodes (sim)")
      ->capture_default_str()
      ->transform(int_in(0, 100000));
  c->add_flag("--expert", f->expert, "Evaluate the scripted Push-T expert instead of a policy");
  c->add_option("--policy.device,--device", f->device, "cpu or cuda (default: cuda when available)");
  c->add_option("--max-action-mse", f->max_action_mse, "Gate (replay): pass when aggregate action MSE <= this")
      ->transform(real_in(0, std::numeric_limits<double>::max()));
  c->add_option("--min-success", f->min_success, "Gate (sim): pass when the success rate >= this")->transform(real_in(0, 1));
  c->add_option("--register-checkpoint,-r", f->register_name,
                "Register the checkpoint under this name when the gate passes (without a gate: once the evaluation succeeded; "
                "the version's quality_gate tag says which)");
  c->add_option("--tracking-uri", f->tracking_uri, "MLflow tracking URI (default $MLFLOW_TRACKING_URI or ./mlruns)");
  c->add_option("--experiment-name", f->experiment, "MLflow experiment");
  c->add_option("--job_name,--job-name", f->job_name, "Run name")->capture_default_str();
  c->add_flag("--no-tracking", f->no_tracking, "Do not log to MLflow");
  c->add_flag("--json", f->json, "Print the full result as JSON");
  c->callback([f] { run(*f); });
});

}  // namespace
}  // namespace robotrain::cli

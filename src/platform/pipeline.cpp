#include "platform/pipeline.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "platform/job_command.h"
#include "platform/job_control.h"
#include "platform/local_runner.h"
#include "platform/source_checks.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::platform {

namespace {

constexpr const char* kEvalResultMarker = "robotrain-eval-result: ";

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The evaluation command, run wherever the training ran.
std::vector<std::string> eval_argv(const PipelineOptions& p, const std::string& exe, const std::string& checkpoint,
                                   const std::string& output_dir) {
  const auto& t = p.train;
  std::vector<std::string> a = {exe, "eval", "--policy.path", checkpoint, "--eval-episodes", std::to_string(p.eval_episodes),
                                "--output_dir", output_dir, "--job_name", p.job_prefix + "-eval"};
  if (!p.eval_env.empty()) {
    a.insert(a.end(), {"--env", p.eval_env});
  } else if (!t.dataset_root_path.empty() || (t.platform == Platform::Local && looks_like_local_path(t.dataset_repo_id))) {
    a.insert(a.end(), {"--dataset.root", t.dataset_root_path.empty() ? t.dataset_repo_id : t.dataset_root_path});
  } else if (t.blob_urls.empty() && t.dataset_assets.empty()) {
    a.insert(a.end(), {"--dataset.repo_id", t.dataset_repo_id});
  }
  for (auto& u : t.blob_urls) a.insert(a.end(), {"--blob-url", u});
  for (auto& d : t.dataset_assets) a.insert(a.end(), {"--dataset-asset", d});
  if (p.min_success) a.insert(a.end(), {"--min-success", format_number(*p.min_success)});
  if (p.max_action_mse) a.insert(a.end(), {"--max-action-mse", format_number(*p.max_action_mse)});
  if (!p.skip_register && !p.register_model.empty()) a.insert(a.end(), {"--register-checkpoint", p.register_model});
  if (!t.tracking_uri.empty()) a.insert(a.end(), {"--tracking-uri", t.tracking_uri});
  a.insert(a.end(), {"--experiment-name", t.effective_experiment_name()});
  return a;
}

std::string local_checkpoint(const SubmitOptions& t) {
  return (std::filesystem::path(t.effective_output_dir()) / "checkpoints" / "last" / "pretrained_model").string();
}

}  // namespace

std::string quality_gate_text(const PipelineOptions& p) {
  if (p.max_action_mse) return "max_action_mse<=" + format_number(*p.max_action_mse);
  if (p.min_success) return "min_success>=" + format_number(*p.min_success);
  return "none";
}

void validate_pipeline_options(PipelineOptions& p) {
  p.train.job_name = p.job_prefix + "-train";
  if (!p.register_model.empty()) check_register_name(p.register_model, "--register-model");
  if (p.eval_episodes < 1) throw util::InputError("--eval-episodes must be a positive integer");
  if (p.poll_interval_s <= 0) throw util::InputError("--poll-interval must be positive (seconds)");
  if (p.timeout_min <= 0) throw util::InputError("--timeout must be positive (minutes)");
  if (p.min_success && (*p.min_success < 0 || *p.min_success > 1)) throw util::InputError("--min-success must be in [0, 1]");
  if (p.max_action_mse && *p.max_action_mse < 0) throw util::InputError("--max-action-mse must be >= 0");
  if (p.skip_inference && !p.register_model.empty() && !p.skip_register)
    throw util::InputError("--skip-inference leaves nothing to gate registration on: also pass --skip-register, or drop -r");
  if (!p.eval_env.empty() && p.eval_env != "pusht") throw util::InputError("--eval-env must be pusht (or omitted for offline replay)");
  validate_submit_options(p.train);
}

JobState wait_for_job(const JobStore& store, JobRecord& record, double poll_interval_s, double timeout_s, int unknown_limit,
                      const std::function<void(const std::string&)>& progress) {
  double start = now_s();
  int unknown = 0;
  // A local job's status is a process check, not a platform API call: no reason to wait long.
  if (record.platform == "local") poll_interval_s = std::min(poll_interval_s, 0.5);
  std::string last_reported;
  while (true) {
    StatusReport s;
    try {
      s = refresh_status(store, record);
    } catch (const util::RuntimeError& e) {
      s = {JobState::Unknown, e.what()};
    }
    if (s.state == JobState::Unknown) {
      if (++unknown >= unknown_limit)
        throw util::RuntimeError("job " + record.id + " status stayed unknown for " + std::to_string(unknown) + " checks (last: '" + s.raw +
                                 "'): check it with `robotrain jobs status " + record.id + "`");
    } else {
      unknown = 0;
    }
    std::string word = job_state_name(s.state);
    if (word != last_reported && s.state != JobState::Unknown) {
      progress("job " + record.id + ": " + word + (s.raw.empty() || s.raw == word ? "" : " (" + s.raw + ")"));
      last_reported = word;
    }
    if (is_terminal(s.state)) return s.state;
    if (now_s() - start > timeout_s)
      throw util::RuntimeError("job " + record.id + " did not finish within " + format_number(timeout_s / 60) +
                               " minutes: it keeps running; follow it with `robotrain jobs status " + record.id + "` or raise --timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(poll_interval_s * 1000)));
  }
}

util::Json last_training_log_values(const std::string& log) {
  util::Json out = util::Json::object();
  auto lines = util::split(log, '\n');
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    auto pos = it->find("step:");
    if (pos == std::string::npos || it->find("loss:") == std::string::npos) continue;
    for (auto& tok : util::split(it->substr(pos), ' ')) {
      auto colon = tok.find(':');
      if (colon == std::string::npos) continue;
      std::string k = tok.substr(0, colon), v = tok.substr(colon + 1);
      double d = 0;
      if (util::parse_double(v, d)) out[k] = d;
      else out[k] = v;
    }
    break;
  }
  return out;
}

util::Json eval_result_from_log(const std::string& log) {
  auto pos = log.rfind(kEvalResultMarker);
  if (pos == std::string::npos) return util::Json::object();
  auto end = log.find('\n', pos);
  try {
    return util::Json::parse(log.substr(pos + std::string(kEvalResultMarker).size(),
                                        end == std::string::npos ? std::string::npos : end - pos - std::string(kEvalResultMarker).size()));
  } catch (const std::exception&) {
    return util::Json::object();
  }
}

namespace {

JobRecord submit_eval(const JobStore& store, const PipelineOptions& p, const PipelineResult& r, const SubmitHooks& hooks) {
  const auto& t = p.train;
  if (t.platform == Platform::Local) {
    auto out = (std::filesystem::path(t.effective_output_dir()) / "eval").string();
    auto argv = eval_argv(p, util::self_executable(), r.checkpoint, out);
    return start_local_job(store, p.job_prefix + "-eval", "eval", argv, out);
  }
  if (t.platform == Platform::AzureML) {
    SubmitOptions eo = t;
    eo.job_name = p.job_prefix + "-eval";
    AzureMLJobParts parts;
    parts.display_name = eo.job_name;
    parts.description = "robotrain evaluation of training job " + r.train_job_id;
    // The training job's checkpoints output, downloaded; eval picks the newest step in it.
    parts.inputs.push_back({"checkpoints", "uri_folder", "download", r.checkpoint});
    for (size_t i = 0; i < t.dataset_assets.size(); ++i)
      parts.inputs.push_back({"dataset_asset_" + std::to_string(i), "uri_folder", "ro_mount", t.dataset_assets[i]});
    parts.outputs = {"eval"};
    auto argv = eval_argv(p, "robotrain", "CHECKPOINTS", "EVAL_OUT");
    for (auto& a : argv) {
      if (a == "CHECKPOINTS") a = "${{inputs.checkpoints}}";
      if (a == "EVAL_OUT") a = "${{outputs.eval}}";
    }
    std::string command;
    for (auto& a : argv) command += (command.empty() ? "" : " ") + (util::starts_with(a, "${{") ? a : shell_quote(a));
    parts.command = command;
    parts.env = build_train_command(t, "robotrain").env;
    auto yaml = render_azureml_command_job_yaml(eo, parts);
    auto dir = store.root() / ".staging";
    std::filesystem::create_directories(dir);
    auto path = dir / (eo.job_name + ".yaml");
    util::atomic_write_file(path, yaml);
    if (!hooks.force_rest && util::find_in_path("az")) {
      auto job = submit_azureml_with_cli(eo, path.string());
      JobRecord rec;
      rec.id = job.id;
      rec.platform = "azureml";
      rec.name = eo.job_name;
      rec.kind = "eval";
      rec.submitted_at = utc_now_iso8601();
      rec.portal_url = job.portal_url;
      rec.context = {{"subscription_id", t.subscription_id}, {"resource_group", t.resource_group}, {"workspace_name", t.workspace_name}};
      std::filesystem::create_directories(store.job_dir(rec.id));
      std::filesystem::rename(path, store.job_dir(rec.id) / "spec.yaml");
      rec.spec_path = (store.job_dir(rec.id) / "spec.yaml").string();
      store.save(rec);
      return rec;
    }
  }
  throw util::RuntimeError("the evaluation stage on " + std::string(platform_name(t.platform)) +
                           " needs the az CLI: download the checkpoint and run "
                           "`robotrain eval`, or pass --skip-inference");
}

// "mse=0.012 mae=0.08 ..." from the evaluation's aggregate.
std::string eval_metrics_text(const util::Json& eval) {
  std::string out;
  if (!eval.contains("aggregate") || !eval["aggregate"].is_object()) return out;
  for (auto& [k, v] : eval["aggregate"].items())
    if (v.is_number()) out += (out.empty() ? "" : " ") + k + "=" + format_number(v.get<double>());
  return out;
}

void record_eval_result(const PipelineOptions& p, PipelineResult& r, const std::function<void(const std::string&)>& progress) {
  r.gate_passed = r.eval.value("passed", false);
  r.quality_gate = quality_gate_text(p);
  std::string metrics = eval_metrics_text(r.eval);
  progress("evaluation: " + (metrics.empty() ? std::string("no metrics reported") : metrics) +
           (r.quality_gate == "none" ? "; no quality gate" : "; quality gate " + r.quality_gate + (r.gate_passed ? " passed" : " not passed")));
  if (r.eval.contains("registered") && r.eval["registered"].is_object()) {
    const auto& reg = r.eval["registered"];
    const auto& version = reg.contains("version") ? reg["version"] : util::Json("?");
    r.registered_model = reg.value("name", "") + ":" + (version.is_string() ? version.get<std::string>() : version.dump());
  }
  progress(std::string("stage 4/4: ") +
           (p.skip_register || p.register_model.empty() ? "registration skipped"
            : !r.registered_model.empty()
                ? "registered " + r.registered_model +
                      (r.quality_gate == "none" ? " (no quality gate: training and evaluation succeeded)" : "")
            : r.gate_passed ? "not registered: the evaluation reported no registered version"
                            : "not registered: evaluation did not pass the gate"));
}

// The workflow ran both tasks: the evaluation's result line is in its task's log.
PipelineResult finish_osmo_pipeline(const JobStore& store, const PipelineOptions& p, const JobRecord& workflow, JobState state,
                                    PipelineResult r, const std::function<void(const std::string&)>& progress) {
  r.checkpoint = "osmo://" + workflow.id + "/" + kOsmoTrainTask + "/" + kOsmoTrainOutput;
  r.eval_job_id = workflow.id + "/" + kOsmoEvalTask;
  progress(std::string("stage 3/4: evaluation ran as task ") + kOsmoEvalTask + " of workflow " + workflow.id);
  try {
    r.eval = eval_result_from_log(job_logs(store, workflow, kOsmoEvalTask));
  } catch (const std::exception&) {
  }
  if (r.eval.empty())
    throw util::RuntimeError("workflow " + workflow.id + " ended " + job_state_name(state) + " without an evaluation result: see `osmo workflow logs " +
                             workflow.id + " --task " + kOsmoTrainTask + "` and `--task " + kOsmoEvalTask + "`");
  record_eval_result(p, r, progress);
  return r;
}

}  // namespace

PipelineResult run_pipeline(const JobStore& store, PipelineOptions p, const SubmitHooks& hooks,
                            const std::function<void(const std::string&)>& progress) {
  PipelineResult r;
  auto& t = p.train;
  progress("stage 1/4: submitting training job " + t.job_name + " on " + platform_name(t.platform));
  // OSMO: evaluation is a second task of the training workflow, fed the training task's
  // output (OSMO keeps no job outputs a later workflow could read).
  const bool osmo_eval = t.platform == Platform::Osmo && !p.skip_inference;
  std::optional<OsmoEvalTask> eval_task;
  if (osmo_eval) {
    auto argv = eval_argv(p, "robotrain", std::string("{{input:0}}/") + kOsmoTrainOutput, "{{output}}/eval");
    eval_task = OsmoEvalTask{{argv.begin() + 1, argv.end()}};
  }
  auto submit_train = [&] { return submit_job(store, t, hooks, eval_task ? &*eval_task : nullptr); };
  JobRecord train = submit_train();
  r.train_job_id = train.id;
  progress("training job id: " + train.id + (train.portal_url.empty() ? "" : "  " + train.portal_url));
  if (p.skip_wait) {
    r.submitted_only = true;
    return r;
  }
  progress("stage 2/4: waiting for " + train.id);
  double timeout_s = p.timeout_min * 60;
  JobState state = wait_for_job(store, train, p.poll_interval_s, timeout_s, p.unknown_status_limit, progress);
  if (state == JobState::Failed && t.platform == Platform::Osmo && osmo_retryable_failure(train.raw_status) && train.resubmissions == 0) {
    progress("training failed with " + train.raw_status + " (infrastructure): resubmitting once");
    JobRecord again = submit_train();
    again.resubmissions = 1;
    store.save(again);
    train = again;
    r.train_job_id = train.id;
    state = wait_for_job(store, train, p.poll_interval_s, timeout_s, p.unknown_status_limit, progress);
  }
  r.train_state = job_state_name(state);
  try {
    r.train_metrics = last_training_log_values(job_logs(store, train, osmo_eval ? kOsmoTrainTask : ""));
  } catch (const std::exception&) {
  }
  if (osmo_eval) return finish_osmo_pipeline(store, p, train, state, std::move(r), progress);
  if (state != JobState::Completed)
    throw util::RuntimeError("training job " + train.id + " ended " + r.train_state + ": see `robotrain jobs logs " + train.id + "`");
  r.checkpoint = t.platform == Platform::Local ? local_checkpoint(t) : "azureml://jobs/" + train.id + "/outputs/checkpoints";
  if (p.skip_inference) {
    progress("stage 3/4: evaluation skipped (--skip-inference)");
    progress("stage 4/4: registration skipped");
    return r;
  }
  progress("stage 3/4: evaluating " + r.checkpoint);
  JobRecord eval = submit_eval(store, p, r, hooks);
  r.eval_job_id = eval.id;
  JobState eval_state = wait_for_job(store, eval, p.poll_interval_s, timeout_s, p.unknown_status_limit, progress);
  std::string eval_log = job_logs(store, eval);
  r.eval = eval_result_from_log(eval_log);
  if (eval_state != JobState::Completed && r.eval.empty())
    throw util::RuntimeError("evaluation job " + eval.id + " ended " + job_state_name(eval_state) + ": see `robotrain jobs logs " + eval.id + "`");
  record_eval_result(p, r, progress);
  return r;
}

std::string pipeline_summary_text(const PipelineResult& r) {
  std::ostringstream s;
  s << "Pipeline summary\n";
  s << "  training job      " << r.train_job_id << " (" << (r.submitted_only ? "submitted" : r.train_state) << ")\n";
  if (!r.train_metrics.empty()) {
    s << "  training metrics ";
    for (auto& [k, v] : r.train_metrics.items()) s << " " << k << "=" << (v.is_string() ? v.get<std::string>() : v.dump());
    s << "\n";
  }
  if (!r.checkpoint.empty()) s << "  checkpoint        " << r.checkpoint << "\n";
  if (!r.eval_job_id.empty()) s << "  evaluation job    " << r.eval_job_id << "\n";
  if (std::string metrics = eval_metrics_text(r.eval); !metrics.empty()) s << "  eval metrics      " << metrics << "\n";
  if (!r.eval_job_id.empty())
    s << "  quality gate      "
      << (r.quality_gate == "none" ? "none (no quality gate given)" : r.quality_gate + (r.gate_passed ? " passed" : " not passed"))
      << "\n";
  s << "  registered model  " << (r.registered_model.empty() ? "<none>" : r.registered_model) << "\n";
  return s.str();
}

}  // namespace robotrain::platform

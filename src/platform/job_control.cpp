#include "platform/job_control.h"

#include <signal.h>

#include <cerrno>

#include "platform/azureml_job.h"
#include "platform/local_runner.h"
#include "util/azure_credential.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/process.h"
#include "util/strings.h"

namespace robotrain::platform {

namespace {

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::vector<std::string> az_ctx(const JobRecord& r) {
  std::vector<std::string> a;
  auto add = [&](const char* flag, const char* key) {
    if (r.context.contains(key) && !r.context[key].get<std::string>().empty()) a.insert(a.end(), {flag, r.context[key].get<std::string>()});
  };
  add("--subscription", "subscription_id");
  add("--resource-group", "resource_group");
  add("--workspace-name", "workspace_name");
  return a;
}

util::ProcessResult run_cli(const std::string& tool, std::vector<std::string> args, double timeout_s = 120) {
  auto exe = util::find_in_path(tool);
  if (!exe) throw util::RuntimeError("the " + tool + " CLI is not on PATH: it is needed to reach this job");
  args.insert(args.begin(), *exe);
  return util::run_process(args, {.timeout_s = timeout_s});
}

StatusReport local_status(JobRecord& r) {
  if (r.state == "completed" || r.state == "failed" || r.state == "canceled") {
    return {r.state == "completed" ? JobState::Completed : r.state == "failed" ? JobState::Failed : JobState::Canceled, r.state};
  }
  if (r.state == "pending" && r.supervisor_pid == 0) return {JobState::Pending, "pending"};
  if (!process_alive(r.supervisor_pid) && !process_alive(r.worker_pid) && !r.exit_code) {
    r.state = "failed";
    return {JobState::Failed, "supervisor-lost"};
  }
  return {JobState::Running, r.state};
}

std::string context_value(const JobRecord& r, const char* key) {
  return r.context.contains(key) && r.context[key].is_string() ? r.context[key].get<std::string>() : "";
}

// Without the az CLI, status and cancel go to the ARM REST API with a token from the Azure
// credential chain (the same path as `submit --via-rest`).
bool azureml_via_rest() { return !util::find_in_path("az").has_value(); }

AzureMlJobRef azureml_ref(const JobRecord& r) {
  return {context_value(r, "subscription_id"), context_value(r, "resource_group"), context_value(r, "workspace_name"), r.id};
}

TokenProvider management_token() { return util::azure_token_provider(util::kManagementResource); }

StatusReport azureml_status(JobRecord& r) {
  if (azureml_via_rest()) {
    std::string raw = azureml_job_status_with_rest(azureml_ref(r), management_token(), azureml_management_endpoint());
    return {azureml_state(raw), raw};
  }
  auto args = std::vector<std::string>{"ml", "job", "show", "--name", r.id};
  auto ctx = az_ctx(r);
  args.insert(args.end(), ctx.begin(), ctx.end());
  args.insert(args.end(), {"--query", "status", "-o", "tsv"});
  auto p = run_cli("az", args);
  if (p.exit_code != 0) throw util::RuntimeError("az ml job show " + r.id + " failed: " + util::trim(p.err.empty() ? p.out : p.err));
  std::string raw = util::trim(p.out);
  return {azureml_state(raw), raw};
}

StatusReport osmo_status(JobRecord& r) {
  auto p = run_cli("osmo", {"workflow", "query", r.id, "-t", "json"});
  if (p.exit_code != 0) throw util::RuntimeError("osmo workflow query " + r.id + " failed: " + util::trim(p.err.empty() ? p.out : p.err));
  std::string raw;
  try {
    raw = util::string_member(util::Json::parse(p.out), "status");
  } catch (const std::exception&) {
    raw = "";
  }
  return {osmo_state(raw), raw};
}

}  // namespace

StatusReport refresh_status(const JobStore& store, JobRecord& r) {
  StatusReport s;
  if (r.platform == "local") {
    r = store.load(r.id);
    s = local_status(r);
  } else if (r.platform == "azureml") {
    s = azureml_status(r);
  } else if (r.platform == "osmo") {
    s = osmo_status(r);
  } else {
    throw util::RuntimeError("job " + r.id + " has unknown platform '" + r.platform + "'");
  }
  if (s.state != JobState::Unknown) r.state = job_state_name(s.state);
  r.raw_status = s.raw;
  store.save(r);
  return s;
}

std::string job_logs(const JobStore& store, const JobRecord& r, const std::string& osmo_task) {
  if (r.platform == "local") {
    auto path = local_log_path(store, r.id);
    return std::filesystem::exists(path) ? util::read_file(path) : std::string();
  }
  util::ProcessResult p;
  if (r.platform == "azureml") {
    if (azureml_via_rest())
      throw util::RuntimeError("reading Azure ML logs needs the az CLI (`az ml job stream`); or open " +
                               (r.portal_url.empty() ? std::string("the job in Azure ML studio") : r.portal_url));
    auto args = std::vector<std::string>{"ml", "job", "stream", "--name", r.id};
    auto ctx = az_ctx(r);
    args.insert(args.end(), ctx.begin(), ctx.end());
    p = run_cli("az", args, 0);
  } else {
    std::vector<std::string> args = {"workflow", "logs", r.id};
    if (!osmo_task.empty()) args.insert(args.end(), {"--task", osmo_task});
    p = run_cli("osmo", args);
  }
  if (p.exit_code != 0) throw util::RuntimeError("fetching logs of " + r.id + " failed: " + util::trim(p.err.empty() ? p.out : p.err));
  return p.out;
}

void cancel_job(const JobStore& store, JobRecord& r) {
  if (r.platform == "local") {
    r = store.load(r.id);
    if (r.state == "completed" || r.state == "failed" || r.state == "canceled") return;
    // The supervisor forwards SIGTERM to the trainer, which checkpoints and exits.
    if (process_alive(r.supervisor_pid)) ::kill(r.supervisor_pid, SIGTERM);
    else if (process_alive(r.worker_pid)) ::kill(r.worker_pid, SIGTERM);
    r.state = "canceled";
    store.save(r);
    return;
  }
  if (r.platform == "azureml" && azureml_via_rest()) {
    cancel_azureml_job_with_rest(azureml_ref(r), management_token(), azureml_management_endpoint());
    r.state = "canceled";
    store.save(r);
    return;
  }
  util::ProcessResult p;
  if (r.platform == "azureml") {
    auto args = std::vector<std::string>{"ml", "job", "cancel", "--name", r.id};
    auto ctx = az_ctx(r);
    args.insert(args.end(), ctx.begin(), ctx.end());
    p = run_cli("az", args);
  } else {
    p = run_cli("osmo", {"workflow", "cancel", r.id});
  }
  if (p.exit_code != 0) throw util::RuntimeError("cancelling " + r.id + " failed: " + util::trim(p.err.empty() ? p.out : p.err));
  r.state = "canceled";
  store.save(r);
}

}  // namespace robotrain::platform

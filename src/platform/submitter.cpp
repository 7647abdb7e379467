#include "platform/submitter.h"

#include "platform/job_command.h"
#include "platform/local_runner.h"
#include "platform/osmo_workflow.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/process.h"

namespace robotrain::platform {

std::string render_job_spec(const SubmitOptions& o) {
  switch (o.platform) {
    case Platform::AzureML: return render_azureml_job_yaml(o);
    case Platform::Osmo: return render_osmo_workflow_yaml(o);
    default: {
      auto cmd = build_train_command(o, util::self_executable());
      return shell_join(cmd.argv) + "\n";
    }
  }
}

namespace {

util::Json azure_context(const SubmitOptions& o) {
  return {{"subscription_id", o.subscription_id}, {"resource_group", o.resource_group}, {"workspace_name", o.workspace_name}};
}

std::filesystem::path stage_spec(const JobStore& store, const std::string& name, const std::string& text, const char* ext) {
  auto dir = store.root() / ".staging";
  std::filesystem::create_directories(dir);
  auto path = dir / (name + ext);
  util::atomic_write_file(path, text);
  return path;
}

JobRecord record_remote(const JobStore& store, const SubmitOptions& o, const SubmittedJob& job, const std::filesystem::path& spec,
                        const char* ext) {
  JobRecord r;
  r.id = job.id;
  r.platform = platform_name(o.platform);
  r.name = o.job_name;
  r.submitted_at = utc_now_iso8601();
  r.portal_url = job.portal_url;
  r.output_dir = o.effective_output_dir();
  r.context = azure_context(o);
  r.state = "pending";
  std::filesystem::create_directories(store.job_dir(r.id));
  auto kept = store.job_dir(r.id) / (std::string("spec") + ext);
  std::filesystem::rename(spec, kept);
  r.spec_path = kept.string();
  store.save(r);
  return r;
}

}  // namespace

JobRecord submit_job(const JobStore& store, const SubmitOptions& o, const SubmitHooks& hooks, const OsmoEvalTask* osmo_eval) {
  if (o.platform == Platform::Local) {
    auto cmd = build_train_command(o, util::self_executable());
    auto r = start_local_job(store, o.job_name, "train", cmd.argv, o.effective_output_dir());
    return r;
  }
  std::string spec = o.platform == Platform::Osmo ? render_osmo_workflow_yaml(o, "12h", osmo_eval) : render_job_spec(o);
  if (o.platform == Platform::Osmo) {
    auto path = stage_spec(store, o.job_name, spec, ".yaml");
    auto job = submit_osmo(o, path.string());
    return record_remote(store, o, job, path, ".yaml");
  }
  bool use_cli = !hooks.force_rest && util::find_in_path("az").has_value();
  if (use_cli) {
    auto path = stage_spec(store, o.job_name, spec, ".yaml");
    auto job = submit_azureml_with_cli(o, path.string());
    return record_remote(store, o, job, path, ".yaml");
  }
  if (!hooks.azure_token)
    throw util::RuntimeError("cannot submit to Azure ML: the az CLI is not on PATH and no Azure credential is available");
  std::string id = make_azureml_job_id(o.job_name);
  auto body = render_azureml_job_rest_body(o).dump(2);
  auto path = stage_spec(store, id, body, ".json");
  auto job = submit_azureml_with_rest(o, id, hooks.azure_token, hooks.azureml_endpoint);
  return record_remote(store, o, job, path, ".json");
}

}  // namespace robotrain::platform

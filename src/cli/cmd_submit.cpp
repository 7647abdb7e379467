// `robotrain submit azureml|osmo|local`: the seed system's submission scripts as one command.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/submit_flags.h"
#include "platform/env_file.h"
#include "platform/job_store.h"
#include "platform/submitter.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

namespace robotrain::cli {
namespace {

void print_submitted(const platform::JobRecord& r, bool json) {
  if (json) {
    std::cout << platform::to_json(r).dump(2) << "\n";
    return;
  }
  std::cout << "Job submitted: " << r.id << " (" << r.platform << ")\n";
  if (!r.portal_url.empty()) std::cout << "Portal: " << r.portal_url << "\n";
  if (!r.output_dir.empty()) std::cout << "Output: " << r.output_dir << "\n";
  std::cout << "Follow it with: robotrain jobs status " << r.id << "  |  robotrain jobs logs " << r.id << "\n";
}

void run_submit(platform::Platform p, SubmitFlags& f) {
  platform::SubmitOptions o = f.resolve(p);
  if (o.config_preview) {
    std::cout << platform::config_preview_text(o);
    return;
  }
  std::string spec = platform::render_job_spec(o);
  if (!o.save_as.empty() && o.platform != platform::Platform::AzureML) util::atomic_write_file(o.save_as, spec);
  if (o.dry_run) {
    std::cout << spec;
    return;
  }
  platform::JobStore store = f.jobs_dir.empty() ? platform::JobStore() : platform::JobStore(f.jobs_dir);
  auto hooks = azure_submit_hooks();
  hooks.force_rest = f.via_rest;
  auto record = platform::submit_job(store, o, hooks);
  print_submitted(record, f.json);
  if (o.stream || f.wait) {
    int rc = follow_job(store, record, o.stream, f.poll_interval_s);
    set_exit_code(rc);
  }
}

CommandRegistrar reg(60, [](CLI::App& root) {
  auto& submit = group(root, "submit", "Submit a training job to Azure ML, OSMO or a local process");
  for (auto p : {platform::Platform::AzureML, platform::Platform::Osmo, platform::Platform::Local}) {
    std::string name = platform::platform_name(p);
    std::string desc = p == platform::Platform::AzureML ? "Submit to Azure ML (az ml job create, or the REST API without az)"
                       : p == platform::Platform::Osmo  ? "Submit an NVIDIA OSMO workflow (osmo workflow submit)"
                                                        : "Run the job as a local background process (the embedded default)";
    auto* cmd = submit.add_subcommand(name, desc);
    auto flags = std::make_shared<SubmitFlags>();
    flags->add_to(cmd, p);
    cmd->callback([p, flags] { run_submit(p, *flags); });
  }
});

}  // namespace
}  // namespace robotrain::cli

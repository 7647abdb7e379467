// `robotrain jobs list|status|logs|cancel`: every recorded job, whatever platform runs it.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/submit_flags.h"
#include "platform/job_control.h"
#include "platform/job_store.h"
#include "platform/local_runner.h"

namespace robotrain::cli {
namespace {

struct JobsFlags {
  std::string jobs_dir;
  std::string id;
  bool json = false;
  bool follow = false;
  double poll_interval_s = 5;
  platform::JobStore store() const { return jobs_dir.empty() ? platform::JobStore() : platform::JobStore(jobs_dir); }
};

void add_common(CLI::App* c, JobsFlags& f, bool with_id) {
  c->add_option("--jobs-dir", f.jobs_dir, "Job store directory (default $ROBOTRAIN_HOME/jobs or ~/.robotrain/jobs)");
  if (with_id) c->add_option("id", f.id, "Job id (as printed by submit / jobs list)")->required();
}

void list_jobs(const JobsFlags& f) {
  auto store = f.store();
  auto jobs = store.list();
  if (f.json) {
    util::Json arr = util::Json::array();
    for (auto& r : jobs) arr.push_back(platform::to_json(r));
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (jobs.empty()) {
    std::cout << "no jobs in " << store.root().string() << "\n";
    return;
  }
  std::printf("%-52s %-8s %-6s %-10s %s\n", "ID", "PLATFORM", "KIND", "STATE", "SUBMITTED");
  for (auto& r : jobs) std::printf("%-52s %-8s %-6s %-10s %s\n", r.id.c_str(), r.platform.c_str(), r.kind.c_str(), r.state.c_str(), r.submitted_at.c_str());
}

void show_status(const JobsFlags& f) {
  auto store = f.store();
  auto r = store.load(f.id);
  auto s = platform::refresh_status(store, r);
  if (f.json) {
    auto j = platform::to_json(r);
    j["state"] = platform::job_state_name(s.state);
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << r.id << ": " << platform::job_state_name(s.state);
  if (!s.raw.empty() && s.raw != platform::job_state_name(s.state)) std::cout << " (" << s.raw << ")";
  std::cout << "\n";
  if (r.exit_code) std::cout << "exit code: " << *r.exit_code << "\n";
  if (!r.portal_url.empty()) std::cout << "portal: " << r.portal_url << "\n";
  if (!r.output_dir.empty()) std::cout << "output: " << r.output_dir << "\n";
}

CommandRegistrar reg(61, [](CLI::App& root) {
  auto& jobs = group(root, "jobs", "List, inspect, follow and cancel submitted jobs (all platforms)");
  {
    auto f = std::make_shared<JobsFlags>();
    auto* c = jobs.add_subcommand("list", "List recorded jobs, newest first");
    add_common(c, *f, false);
    c->add_flag("--json", f->json, "Print as JSON");
    c->callback([f] { list_jobs(*f); });
  }
  {
    auto f = std::make_shared<JobsFlags>();
    auto* c = jobs.add_subcommand("status", "Query a job's status on its platform");
    add_common(c, *f, true);
    c->add_flag("--json", f->json, "Print as JSON");
    c->callback([f] { show_status(*f); });
  }
  {
    auto f = std::make_shared<JobsFlags>();
    auto* c = jobs.add_subcommand("logs", "Print a job's logs (--follow: until it ends)");
    add_common(c, *f, true);
    c->add_flag("-f,--follow", f->follow, "Keep printing until the job ends");
    c->add_option("--poll-interval", f->poll_interval_s, "Seconds between checks when following")
        ->capture_default_str()
        ->transform(real_in(0.01, 86400));
    c->callback([f] {
      auto store = f->store();
      auto r = store.load(f->id);
      if (f->follow) {
        set_exit_code(follow_job(store, r, true, f->poll_interval_s));
        return;
      }
      std::cout << platform::job_logs(store, r);
    });
  }
  {
    auto f = std::make_shared<JobsFlags>();
    auto* c = jobs.add_subcommand("cancel", "Cancel a job (local jobs checkpoint and stop)");
    add_common(c, *f, true);
    c->callback([f] {
      auto store = f->store();
      auto r = store.load(f->id);
      platform::cancel_job(store, r);
      std::cout << r.id << ": canceled\n";
    });
  }
  {
    auto f = std::make_shared<JobsFlags>();
    auto* c = jobs.add_subcommand("supervise", "(internal) run a local job and record its outcome");
    c->group("");  // hidden from --help
    add_common(c, *f, true);
    c->callback([f] { set_exit_code(platform::supervise_local_job(f->store(), f->id)); });
  }
});

}  // namespace
}  // namespace robotrain::cli

// `robotrain runs list|show`: runs in the local MLflow store (./mlruns) or on an MLflow
// server / Azure ML workspace, without needing the mlflow Python package. An MLflow server
// gets MLflow's own credentials (MLFLOW_TRACKING_*), only azureml:// the Azure token.
#include <ctime>
#include <iostream>
#include <memory>

#include "cli/browse_flags.h"
#include "cli/command.h"
#include "util/json.h"
#include "util/strings.h"

namespace robotrain::cli {
namespace {

struct RunsFlags : BrowseFlags {
  std::string experiment;
  std::string run_id;
  int max_results = 100;
};

std::string format_time(int64_t ms) {
  if (ms < 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

void list_runs(const RunsFlags& f) {
  auto b = f.browser();
  auto runs = b.runs(f.experiment, f.max_results);
  if (f.json) {
    util::Json arr = util::Json::array();
    for (auto& r : runs) arr.push_back(track::to_json(r));
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (runs.empty()) {
    std::cout << "no runs in " << b.uri() << "\n";
    return;
  }
  // Run ids: 32 hex (MLflow), offline-<32 hex> (not yet on the server); experiment ids: up
  // to 18 digits (file store), GUIDs (Azure ML). Printed whole: they are meant to be copied.
  std::printf("%-32s %-24s %-9s %-19s %-18s %s\n", "RUN ID", "NAME", "STATUS", "STARTED (UTC)", "EXPERIMENT", "train/loss");
  for (auto& r : runs) {
    auto loss = r.metrics.find("train/loss");
    std::string l = loss == r.metrics.end() ? "-" : util::cat(loss->second.value, " @", loss->second.step);
    std::printf("%-32s %-24s %-9s %-19s %-18s %s\n", r.info.run_id.c_str(), r.info.run_name.substr(0, 24).c_str(),
                r.info.status.c_str(), format_time(r.info.start_time).c_str(), r.info.experiment_id.c_str(), l.c_str());
  }
}

void show_run(const RunsFlags& f) {
  auto r = f.browser().run(f.run_id);
  if (f.json) {
    std::cout << track::to_json(r).dump(2) << "\n";
    return;
  }
  std::cout << "run:        " << r.info.run_id << " (" << r.info.run_name << ")\n"
            << "experiment: " << r.info.experiment_id << "\n"
            << "status:     " << r.info.status << "\n"
            << "started:    " << format_time(r.info.start_time) << " UTC\n"
            << "ended:      " << format_time(r.info.end_time) << (r.info.end_time < 0 ? "\n" : " UTC\n")
            << "artifacts:  " << r.info.artifact_uri << "\n";
  std::cout << "params:\n";
  for (auto& [k, v] : r.params) std::cout << "  " << k << " = " << v << "\n";
  std::cout << "tags:\n";
  for (auto& [k, v] : r.tags) std::cout << "  " << k << " = " << v << "\n";
  std::cout << "metrics (last value @ step):\n";
  for (auto& [k, m] : r.metrics) std::cout << "  " << k << " = " << m.value << " @" << m.step << "\n";
}

CommandRegistrar reg(60, [](CLI::App& root) {
  auto& runs = group(root, "runs",
                     browse_group_help("Inspect tracked training runs (MLflow store or server)",
                                       "a malformed URI, an unknown run id or experiment"));
  {
    auto f = std::make_shared<RunsFlags>();
    auto* c = runs.add_subcommand("list", "List runs, newest first");
    f->add_to(c);
    c->add_option("--experiment,--experiment-name", f->experiment, "Only this experiment");
    c->add_option("--max-results", f->max_results, "At most this many runs (default 100)")->transform(int_in(1, 1000000));
    c->callback([f] { list_runs(*f); });
  }
  {
    auto f = std::make_shared<RunsFlags>();
    auto* c = runs.add_subcommand("show", "Show a run's params, tags and last metrics");
    f->add_to(c);
    c->add_option("run_id", f->run_id,
                  "Run id (or the offline-<id> a run got while its server was unreachable); an unknown id exits 2")
        ->required();
    c->callback([f] { show_run(*f); });
  }
});

}  // namespace
}  // namespace robotrain::cli

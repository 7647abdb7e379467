// `robotrain track sync --journal FILE`: deliver MLflow calls that a training run journaled
// while the tracking server was unreachable.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/submit_flags.h"
#include "track/journal.h"
#include "track/mlflow_client.h"
#include "util/json.h"

namespace robotrain::cli {
namespace {

struct SyncFlags {
  std::string journal;
  std::string tracking_uri;
  bool json = false;
};

CommandRegistrar reg(62, [](CLI::App& root) {
  auto& track = group(root, "track", "Experiment tracking maintenance");
  auto f = std::make_shared<SyncFlags>();
  auto* c = track.add_subcommand("sync", "Replay a journal of undelivered MLflow calls");
  c->add_option("--journal", f->journal,
                "Journal file: a training run's is OUTPUT/.robotrain/mlflow-journal.jsonl (also for a local store whose "
                "disk was full)")
      ->required();
  c->add_option("--tracking-uri", f->tracking_uri, "Send to this server instead of the one recorded in the journal");
  c->add_flag("--json", f->json, "Print JSON");
  c->callback([f] {
    track::SyncOptions o;
    o.tracking_uri = f->tracking_uri;
    o.budget_s = track::interactive_budget_s();
    // An MLflow server gets MLflow's own credentials; the Azure token goes to azureml:// only.
    o.access_token = azure_management_token_provider();
    auto r = track::sync_journal(f->journal, o);
    if (f->json) {
      util::Json offline = util::Json::object();
      for (auto& [token, id] : r.run_by_token) offline[track::client_run_id(token)] = id;
      std::cout << util::Json{{"replayed", r.replayed}, {"run_ids", r.run_ids}, {"offline_ids", offline},
                              {"archived", r.archived.string()}}.dump(2)
                << "\n";
      return;
    }
    std::cout << "replayed " << r.replayed << " journaled calls";
    for (auto& [token, id] : r.run_by_token) std::cout << " (run " << id << ", offline id " << track::client_run_id(token) << ")";
    std::cout << "; journal archived as " << r.archived.string() << "\n";
  });
});

}  // namespace
}  // namespace robotrain::cli
